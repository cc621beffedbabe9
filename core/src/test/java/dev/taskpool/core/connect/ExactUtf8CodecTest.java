package dev.taskpool.core.connect;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.protocol.CommandArgs;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The codec's exact sizes: a wrong one would corrupt the protocol stream, so every kind of text is checked against Lettuce's own encoding. */
class ExactUtf8CodecTest {
    private static final List<String> TEXTS = List.of("", "abc", "[1,\"two\",{\"k\":3.5}]", "邮件任务", "é€ü",
            "emoji 😀 and more", "lone high \uD800 surrogate", "lone low \uDC00 surrogate", "end \uD83D",
            "a".repeat(100_000), "😀".repeat(3000));

    @Test
    void theSizeItTellsIsTheSizeItWrites() {
        for (String text : TEXTS) {
            ByteBuf written = Unpooled.buffer();
            ExactUtf8Codec.UTF8.encodeValue(text, written);
            assertEquals(written.readableBytes(), ExactUtf8Codec.UTF8.estimateSize(text), "the size of " + describe(text));
            assertTrue(ExactUtf8Codec.UTF8.isEstimateExact());
        }
    }

    @Test
    void aCommandIsEncodedByteForByteAsWithLettucesCodec() {
        for (String text : TEXTS) {
            assertArrayEquals(encoded(StringCodec.UTF8, text), encoded(ExactUtf8Codec.UTF8, text), describe(text));
        }
    }

    @Test
    void repliesDecodeAsWithLettucesCodec() {
        for (String text : TEXTS) {
            ByteBuffer bytes = StringCodec.UTF8.encodeValue(text);
            assertEquals(StringCodec.UTF8.decodeValue(bytes.duplicate()), ExactUtf8Codec.UTF8.decodeValue(bytes.duplicate()));
        }
    }

    private static byte[] encoded(StringCodec codec, String text) {
        CommandArgs<String, String> args = new CommandArgs<>(codec).addKey("key:" + text).addValue(text).add(7);
        ByteBuf out = Unpooled.buffer();
        args.encode(out);
        return ByteBufUtil.getBytes(out);
    }

    private static String describe(String text) {
        return text.length() > 40 ? text.length() + " characters of '" + text.substring(0, 2) + "'" : "'" + text + "'";
    }
}
