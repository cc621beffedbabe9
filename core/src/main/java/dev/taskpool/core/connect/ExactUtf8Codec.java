package dev.taskpool.core.connect;

import io.lettuce.core.codec.StringCodec;
import io.netty.buffer.ByteBufUtil;
import java.nio.charset.StandardCharsets;

/**
 * Lettuce's UTF-8 string codec, telling the exact encoded size of each argument. Lettuce's own
 * only estimates it for UTF-8, so each argument of a command is first encoded into a temporary
 * buffer, measured and copied; with the exact size it is written once, in place. A script call
 * carries dozens of arguments (a worker's round trip four per run it ends, a batch of adds nine
 * per add), and this encoding was the largest part of the connections' event-loop CPU in the
 * profile (BENCHMARKS.md, issue 22). The size is Netty's count for the bytes
 * {@link ByteBufUtil#writeUtf8} writes, which is what the codec writes.
 */
final class ExactUtf8Codec extends StringCodec {
    static final ExactUtf8Codec UTF8 = new ExactUtf8Codec();

    private ExactUtf8Codec() {
        super(StandardCharsets.UTF_8);
    }

    @Override
    public int estimateSize(Object keyOrValue) {
        return keyOrValue instanceof String text ? ByteBufUtil.utf8Bytes(text) : super.estimateSize(keyOrValue);
    }

    @Override
    public boolean isEstimateExact() {
        return true;
    }
}
