package dev.taskpool.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP proxy on 127.0.0.1 in front of a Redis, for partition tests (plain {@code redis://} only). {@link #partition()} stops
 * moving bytes either way while connections stay open, as a network that drops packets does:
 * what is sent meanwhile waits in the kernel buffers and arrives when {@link #heal()} is called,
 * as TCP retransmission delivers it once a partition heals. {@link #sever()} resets every
 * connection, losing what was in transit (the client sees the connection drop).
 */
public final class TcpProxy implements AutoCloseable {
    private static final int CHUNK = 16 * 1024;

    private final ServerSocket server;
    private final String targetHost;
    private final int targetPort;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final Object gate = new Object();
    private boolean partitioned;
    private volatile boolean closed;

    private TcpProxy(ServerSocket server, String targetHost, int targetPort) {
        this.server = server;
        this.targetHost = targetHost;
        this.targetPort = targetPort;
    }

    /** Starts a proxy to the Redis at {@code redisUri} ({@code redis://host:port}) on a free loopback port. */
    public static TcpProxy start(String redisUri) {
        URI uri = URI.create(redisUri);
        return start(uri.getHost(), uri.getPort() < 0 ? 6379 : uri.getPort());
    }

    /** Starts a proxy to {@code targetHost:targetPort} on a free loopback port. */
    public static TcpProxy start(String targetHost, int targetPort) {
        try {
            ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            TcpProxy proxy = new TcpProxy(server, targetHost, targetPort);
            Thread.ofPlatform().daemon().name("tcp-proxy-accept").start(proxy::accept);
            return proxy;
        } catch (IOException e) {
            throw new IllegalStateException("cannot start a TCP proxy: " + e.getMessage(), e);
        }
    }

    /** The URI clients use to reach Redis through the proxy. */
    public String uri() {
        return "redis://127.0.0.1:" + server.getLocalPort();
    }

    /** From now on no byte moves either way, until {@link #heal()}. */
    public void partition() {
        synchronized (gate) {
            partitioned = true;
        }
    }

    /** Bytes move again; what waited is delivered. */
    public void heal() {
        synchronized (gate) {
            partitioned = false;
            gate.notifyAll();
        }
    }

    /** Resets every open connection (RST, nothing in transit is delivered); new connections are accepted. */
    public void sever() {
        for (Socket socket : sockets) {
            abort(socket);
        }
    }

    /** How many connections are open now (each client connection counts twice: both legs). */
    public int openSockets() {
        return (int) sockets.stream().filter(socket -> !socket.isClosed()).count();
    }

    private void accept() {
        while (!closed) {
            try {
                Socket client = server.accept();
                Socket upstream = new Socket();
                upstream.connect(new InetSocketAddress(targetHost, targetPort), 2000);
                client.setTcpNoDelay(true);
                upstream.setTcpNoDelay(true);
                sockets.add(client);
                sockets.add(upstream);
                Thread.ofPlatform().daemon().name("tcp-proxy-up").start(() -> pump(client, upstream));
                Thread.ofPlatform().daemon().name("tcp-proxy-down").start(() -> pump(upstream, client));
            } catch (IOException e) {
                if (!closed) {
                    System.err.println("tcp proxy: accept failed: " + e.getMessage());
                }
            }
        }
    }

    private void pump(Socket from, Socket to) {
        byte[] buffer = new byte[CHUNK];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            int read;
            while ((read = in.read(buffer)) >= 0) {
                awaitHealed();
                out.write(buffer, 0, read);
                out.flush();
            }
        } catch (IOException | InterruptedException e) {
            // the connection was severed or closed: the other leg goes too
        } finally {
            abort(from);
            abort(to);
            sockets.remove(from);
            sockets.remove(to);
        }
    }

    private void awaitHealed() throws InterruptedException {
        synchronized (gate) {
            while (partitioned && !closed) {
                gate.wait();
            }
        }
    }

    private static void abort(Socket socket) {
        try {
            socket.setSoLinger(true, 0);
        } catch (SocketException ignored) {
            // already closed
        }
        try {
            socket.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    @Override
    public void close() {
        closed = true;
        heal();
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        sever();
    }
}
