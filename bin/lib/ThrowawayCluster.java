import dev.taskpool.support.LocalRedisCluster;
import java.time.Duration;

/**
 * Starts a throwaway Redis Cluster (support's LocalRedisCluster: M masters with one replica each, on
 * free loopback ports), prints a URL naming one of its nodes, and stops every node when standard
 * input ends or the process is asked to stop (Ctrl-C, SIGTERM). Run by bin/throwaway-cluster.
 */
public class ThrowawayCluster {
    public static void main(String[] args) throws Exception {
        int masters = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        LocalRedisCluster cluster = LocalRedisCluster.start(masters, Duration.ofSeconds(5));
        Runtime.getRuntime().addShutdownHook(new Thread(cluster::close));
        System.out.println(cluster.uri());
        System.out.flush();
        System.in.transferTo(java.io.OutputStream.nullOutputStream());
        System.exit(0);
    }
}
