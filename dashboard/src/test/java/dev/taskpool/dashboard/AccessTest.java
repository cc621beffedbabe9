package dev.taskpool.dashboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class AccessTest {
    static final String HOST = "127.0.0.1:8080";

    static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void onLoopbackWithoutTokenReadsAreOpenAndChangesNeedTheCustomHeader() {
        Access access = new Access(true, false, null);
        assertNull(access.check(false, HOST, null, null), "a read");
        assertNull(access.check(true, HOST, null, "1"), "a change from the dashboard's own page");
        Access.Refusal crossSite = access.check(true, HOST, null, null);
        assertEquals(403, crossSite.status(), "a change without the header could come from another site's form");
        assertTrue(crossSite.message().contains(Access.CSRF_HEADER), crossSite.message());
    }

    @Test
    void onLoopbackTheHostMustBeLoopbackTooAgainstDnsRebinding() {
        Access access = new Access(true, false, null);
        for (String host : new String[]{"localhost:8080", "127.0.0.1", "[::1]:8080", "127.1.2.3:80", "LOCALHOST"}) {
            assertNull(access.check(false, host, null, null), host);
        }
        for (String host : new String[]{"evil.example:8080", "localhost.evil.example", "[::2]:8080"}) {
            Access.Refusal refusal = access.check(false, host, null, null);
            assertEquals(403, refusal == null ? 0 : refusal.status(), "host " + host);
            assertTrue(refusal.message().contains("not for host '" + host + "'"), refusal.message());
        }
    }

    @Test
    void aRequestWithoutHostIsToldItNeedsOneOnLoopbackAndBeyond() {
        for (Access access : new Access[]{new Access(true, false, null), new Access(false, false, "s3cret")}) {
            for (String host : new String[]{"", " ", null}) {
                Access.Refusal refusal = access.check(false, host, "Bearer s3cret", null);
                assertEquals(400, refusal == null ? 0 : refusal.status(), "host '" + host + "'");
                assertTrue(refusal.message().contains("no Host header"), refusal.message());
                assertFalse(refusal.message().contains("null"), refusal.message());
            }
        }
    }

    @Test
    void aTokenOnLoopbackGuardsChangesButNotReads() {
        Access access = new Access(true, false, "s3cret");
        assertNull(access.check(false, HOST, null, null), "reads stay open on loopback");
        assertEquals(401, access.check(true, HOST, null, "1").status(), "the header alone is not enough");
        assertNull(access.check(true, HOST, "Bearer s3cret", null), "a Bearer token is never sent by a browser on its own: no header needed");
        assertNull(access.check(true, HOST, basic("ops", "s3cret"), "1"), "basic auth with the token as password, from the page");
        assertEquals(403, access.check(true, HOST, basic("ops", "s3cret"), null).status(),
                "basic auth is sent by the browser to any site's request: it still needs the header");
        assertEquals(401, access.check(true, HOST, "Bearer wrong", null).status());
        assertEquals(401, access.check(false, HOST, "Bearer wrong", null).status(), "a wrong token is refused even for a read");
    }

    @Test
    void beyondLoopbackEveryRequestNeedsTheTokenAndTheBrowserIsAskedForIt() {
        Access access = new Access(false, false, "s3cret");
        Access.Refusal read = access.check(false, "dash.internal:8080", null, null);
        assertEquals(401, read.status());
        assertTrue(read.askForCredentials(), "a browser gets the basic-auth prompt");
        assertNull(access.check(false, "dash.internal:8080", basic("", "s3cret"), null));
        assertNull(access.check(false, "10.0.0.5:8080", "bearer s3cret", null), "the scheme is case-insensitive");
    }

    @Test
    void readOnlyRefusesEveryChangeWhateverTheCredentials() {
        Access access = new Access(true, true, "s3cret");
        Access.Refusal refusal = access.check(true, HOST, "Bearer s3cret", "1");
        assertEquals(403, refusal.status());
        assertTrue(refusal.message().contains("read-only"), refusal.message());
        assertNull(access.check(false, HOST, null, null));
    }

    @Test
    void credentialsAreReadFromBearerAndBasicOnly() {
        assertEquals("t", Credentials.parse("Bearer t").secret());
        assertTrue(Credentials.parse("Bearer t").bearer());
        assertEquals("pa:ss", Credentials.parse(basic("u", "pa:ss")).secret(), "the password may hold a colon");
        assertFalse(Credentials.parse(basic("u", "p")).bearer());
        assertNull(Credentials.parse("Digest x").secret());
        assertNull(Credentials.parse(null).secret());
        assertEquals("", Credentials.parse("Basic !!!").secret(), "malformed basic auth matches no token");
    }

    @Test
    void settingsNameWhatIsWrong() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new DashboardSettings("127.0.0.1", 70000, false, null))
                .getMessage().contains("70000"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new DashboardSettings(" ", 80, false, null))
                .getMessage().contains("bind address"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new DashboardSettings("127.0.0.1", 80, false, "  "))
                .getMessage().contains("whitespace"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new DashboardSettings("no-such-host.invalid", 80, false, null).address())
                .getMessage().contains("no-such-host.invalid"));
        assertEquals(" (read-only, token required for actions)", new DashboardSettings("127.0.0.1", 80, true, "t").describeAccess());
        assertEquals(" (token required)", new DashboardSettings("0.0.0.0", 80, false, "t").describeAccess());
    }
}
