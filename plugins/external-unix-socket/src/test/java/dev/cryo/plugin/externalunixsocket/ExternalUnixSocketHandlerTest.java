package dev.cryo.plugin.externalunixsocket;

import dev.cryo.api.Config;
import dev.cryo.api.ExternalReference;
import dev.cryo.api.ObjectId;
import dev.cryo.api.Pid;
import dev.cryo.api.TargetFd;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ExternalUnixSocketHandlerTest {
    /** ext-unix-sk given as a bare flag. */
    private static final Config EXT_UNIX_SK = new Config() {
        @Override
        public Optional<String> value(String key) {
            return Optional.empty();
        }

        @Override
        public List<String> values(String key) {
            return List.of();
        }

        @Override
        public boolean isSet(String key) {
            return key.equals("ext-unix-sk");
        }
    };

    @Test
    void acceptsNothingEvenWithExtUnixSk() throws Exception {
        ExternalReference ref = new ExternalReference(new ObjectId("unix-socket", 41234),
                new ObjectId("unix-socket", 41235), Pid.of(812), "nginx", TargetFd.of(5),
                "/run/app.sock (pid 77 \"syslogd\")");
        assertEquals(Optional.empty(), new ExternalUnixSocketHandler().accept(ref, EXT_UNIX_SK));
    }
}
