package dev.taskpool.dashboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.add.AddStore;
import dev.taskpool.core.definition.Backoff;
import dev.taskpool.core.definition.FlowControl;
import dev.taskpool.core.definition.TaskDefinition;
import dev.taskpool.core.definition.TaskEvents;
import dev.taskpool.core.lua.KindLayout;
import dev.taskpool.core.lua.Keys;
import dev.taskpool.core.model.TaskInfo;
import dev.taskpool.core.model.TaskStatus;
import dev.taskpool.core.ops.TaskOperations;
import dev.taskpool.core.redis.AddOptions;
import dev.taskpool.core.schedule.ScheduleOperations;
import dev.taskpool.core.schedule.ScheduleSpec;
import dev.taskpool.support.TestRedis;
import dev.taskpool.support.Wait;
import dev.taskpool.worker.Harness;
import dev.taskpool.worker.TestApp;
import dev.taskpool.worker.process.ProcessRegistry;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.NoSuchElementException;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;

/**
 * The dashboard in a real headless Chromium, against a real Redis and a real embedded worker:
 * a progress bar that moves live, a retry clicked on a failed task, a pause clicked on a kind, a
 * schedule stopped and started from its row.
 * Without Chromium or chromedriver this test fails with the reason; it is never skipped.
 */
class DashboardBrowserTest {
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    static final Path SCREENSHOTS = Path.of("target", "dashboard-screenshots");
    static final Duration LIVE = Duration.ofSeconds(60);

    static final String STEPPED = TestRedis.uniqueTaskId("dash.stepped");
    static final String FLAKY = TestRedis.uniqueTaskId("dash.flaky");
    static final String HELD = TestRedis.uniqueTaskId("dash.held");
    static final String DELAYED = TestRedis.uniqueTaskId("dash.delayed");
    /** One permit lets the stepped script report one more step. */
    static final Semaphore steps = new Semaphore(0);
    /** The flaky script fails its first run only. */
    static final AtomicInteger flakyRuns = new AtomicInteger();

    @TempDir
    static Path dir;
    static Path profile;
    static Harness harness;
    static DashboardServer dashboard;
    static WebDriver browser;

    @BeforeAll
    static void start() throws IOException {
        assertTrue(Files.isExecutable(CHROMIUM), "the browser test needs Chromium at " + CHROMIUM
                + " (Debian: apt-get install chromium); it does not pass without a browser");
        assertTrue(Files.isExecutable(CHROMEDRIVER), "the browser test needs chromedriver at " + CHROMEDRIVER
                + " (Debian: apt-get install chromium-driver); it does not pass without a browser");
        ProcessRegistry registry = new ProcessRegistry()
                .register("test.step", args -> {
                    try {
                        if (!steps.tryAcquire(30, TimeUnit.SECONDS)) {
                            throw new IllegalStateException("the test never allowed the next step");
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException("interrupted while waiting for the next step");
                    }
                    return null;
                })
                .register("test.firstRunFails", args -> flakyRuns.incrementAndGet() == 1);
        TestApp app = TestApp.in(dir.resolve("app"))
                .task(STEPPED, 1, 0, 0, 60, 10, "scripts.dash.Stepped", "")
                .task(FLAKY, 1, 0, 0, 10, 10, "scripts.dash.Flaky", "")
                .task(HELD, 1, 0, 0, 10, 10, "scripts.dash.Held", "")
                .task(DELAYED, 1, 0, 0, 10, 10, "scripts.dash.Held", "")
                .script("dash", """
                        function Stepped(id) {
                          for (let step = 1; step <= 4; step++) {
                            Process('test.step');
                            Progress(id, step, 4, 'step ' + step);
                          }
                          return { steps: 4 };
                        }
                        function Flaky(id) {
                          if (Process('test.firstRunFails')) throw new Error('the disk was full');
                          return 'fine now';
                        }
                        function Held(id, what) {
                          return 'held ' + what;
                        }
                        """);
        harness = Harness.open(app.dir(), registry);
        harness.startWorker();
        dashboard = new DashboardServer(harness.redis, new TaskOperations(harness.redis, Clock.systemUTC()),
                DashboardSettings.loopback(0));
        profile = Files.createTempDirectory("taskpool-chromium-");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--user-data-dir=" + profile,
                "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--window-size=1280,900");
        // the console is read after each test: a script error or a blocked resource (the page's policy) fails it
        options.setCapability("goog:loggingPrefs", Map.of("browser", "ALL"));
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
        browser = new ChromeDriver(service, options);
        Files.createDirectories(SCREENSHOTS);
    }

    @AfterAll
    static void stop() throws IOException {
        steps.release(100);   // a stepped run still waiting ends now
        try {
            if (browser != null) browser.quit();
        } finally {
            try {
                if (dashboard != null) dashboard.close();
            } finally {
                if (harness != null) harness.close();
                if (profile != null) {
                    try (Stream<Path> files = Files.walk(profile)) {
                        files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
                    }
                }
            }
        }
    }

    @Test
    void overviewListsTheKindsAndTheProgressBarMovesLiveWhileTheWorkerRunsTheTask() throws IOException {
        long id = harness.add(STEPPED);
        browser.get(dashboard.url());
        Wait.until("the overview lists kind " + STEPPED, LIVE, () -> !browser.findElements(By.id("kind-row-" + STEPPED)).isEmpty());
        waitUntilLive();

        browser.get(dashboard.url() + "#/task/" + STEPPED + "/" + id);
        waitUntilLive();
        for (int step = 1; step <= 4; step++) {
            steps.release();
            int expected = step;
            // the page does not reload: the bar moves from the progress events the server streams
            // (the page redraws as events come: an element read a moment ago may be gone, and is read again)
            Wait.until("the progress bar shows step " + expected + " of 4", LIVE,
                    () -> progressText().startsWith(expected + " / 4")
                            && String.valueOf(expected).equals(browser.findElement(By.id("progress")).getDomAttribute("data-current")));
            if (step == 2) {
                screenshot("task-progress.png");
                assertEquals("RUNNING", text("task-status"), "halfway through, the task page says the task runs");
            }
        }
        Wait.until("the task page shows SUCCESS", LIVE, () -> text("task-status").equals("SUCCESS"));
        assertTrue(browser.findElement(By.id("task-response")).getText().contains("\"steps\": 4"),
                "the response is shown: " + browser.findElement(By.id("task-response")).getText());
        assertTrue(timelineEvents().contains("progress") && timelineEvents().contains("success"),
                "the live timeline lists the run's events: " + timelineEvents());

        browser.get(dashboard.url());
        Wait.until("the overview counts the success of " + STEPPED, LIVE,
                () -> browser.findElement(By.id("kind-row-" + STEPPED)).findElements(By.tagName("td")).get(4).getText().equals("1"));
        screenshot("overview.png");
    }

    @Test
    void retryClickedOnAFailedTaskMakesItSucceed() {
        String markup = "<img src=x onerror=\"document.title='owned'\">";
        long id = harness.add(FLAKY, markup);
        TaskInfo failed = harness.await(FLAKY, id);
        assertEquals(TaskStatus.FAILURE, failed.status(), "the first run fails");
        browser.get(dashboard.url() + "#/task/" + FLAKY + "/" + id);
        Wait.until("the task page shows FAILURE", LIVE, () -> text("task-status").equals("FAILURE"));
        assertEquals("the disk was full", browser.findElement(By.id("task-error")).getText());
        assertTrue(browser.findElement(By.id("task-args")).getText().contains("<img src=x"),
                "task args are shown as text: " + browser.findElement(By.id("task-args")).getText());
        assertTrue(browser.findElements(By.cssSelector("#task-args img")).isEmpty(), "markup in args never becomes an element");
        assertEquals("taskpool dashboard", browser.getTitle(), "no script from the args ran");
        assertTrue(browser.findElement(By.id("cancel")).getDomProperty("disabled").equals("true"), "a finished task cannot be canceled");
        click("retry");
        Wait.until("the retried task shows SUCCESS on the page", Duration.ofSeconds(60), () -> text("task-status").equals("SUCCESS"));
        assertEquals("fine now", harness.client.get(FLAKY, id).orElseThrow().response().asText());
        assertTrue(timelineEvents().contains("resubmitted"), "the timeline shows the operator's retry: " + timelineEvents());
        assertEquals("the disk was full", text("task-previous-error"), "the failed run's error stays readable after the retry");
        screenshot("task-retried.png");
    }

    @Test
    void pauseClickedOnAKindStopsItWhileAddsGoOn() throws InterruptedException {
        browser.get(dashboard.url() + "#/kind/" + HELD);
        waitUntilLive();
        Wait.until("the kind page offers Pause", LIVE, () -> !browser.findElements(By.id("pause")).isEmpty());
        click("pause");
        Wait.until("the kind page shows the kind paused", LIVE, () -> !browser.findElements(By.id("kind-paused")).isEmpty());

        long id = harness.add(HELD, "parcel");
        Wait.until("the page counts the task added while paused as waiting", LIVE, () -> text("count-waiting").equals("1"));
        // A paused kind must not start within a second: watch for three, long enough to see it run if it did.
        Thread.sleep(3000);
        assertEquals(TaskStatus.WAITING, harness.client.get(HELD, id).orElseThrow().status(),
                "a task of a paused kind stays WAITING while a worker is idle");
        assertEquals("1", text("count-waiting"));
        assertEquals("0", text("count-running"));
        screenshot("kind-paused.png");

        click("resume");
        Wait.until("after Resume the task runs to SUCCESS", Duration.ofSeconds(60),
                () -> harness.client.get(HELD, id).orElseThrow().status() == TaskStatus.SUCCESS);
        Wait.until("the page shows the kind taking tasks again", LIVE, () -> !browser.findElements(By.id("kind-running")).isEmpty());
    }

    @Test
    void aDelayedTaskShowsWhenItIsDueAndRunNowClickedRunsIt() {
        long id = harness.client.addWith(DELAYED, AddOptions.delay(Duration.ofMinutes(30)), "later").id();
        browser.get(dashboard.url() + "#/kind/" + DELAYED);
        Wait.until("the kind page lists the delayed task with when it is due", LIVE, () -> {
            try {
                return browser.findElement(By.cssSelector("tr[data-id='" + id + "']")).getText().contains("due in 30 min");
            } catch (NoSuchElementException | StaleElementReferenceException e) {
                return false;
            }
        });
        assertEquals("1", text("count-delayed"));
        screenshot("kind-delayed.png");
        browser.get(dashboard.url() + "#/task/" + DELAYED + "/" + id);
        Wait.until("the task page says when it is due", LIVE,
                () -> !browser.findElements(By.id("task-due")).isEmpty() && text("task-due").equals("due in 30 min"));
        assertEquals("false", browser.findElement(By.id("run-now")).getDomProperty("disabled"), "Run now is offered");
        waitUntilLive();
        click("run-now");
        Wait.until("the task run now shows SUCCESS on the page", LIVE, () -> text("task-status").equals("SUCCESS"));
        assertTrue(timelineEvents().contains("promoted"), "the timeline shows the operator's run now: " + timelineEvents());
        assertTrue(browser.findElements(By.id("task-due")).isEmpty(), "no longer due: it ran");
        screenshot("task-run-now.png");
    }

    @Test
    void aKindWithAKeyOfTheWrongTypeIsARowSayingWhyAndTheOtherKindsAreShown() {
        String broken = TestRedis.uniqueTaskId("dash.broken");
        Keys keys = Keys.of(broken);
        var raw = harness.redis.sync();
        raw.sadd(Keys.TASK_REGISTRY, broken);
        raw.set(keys.waiting(), "garbage");
        try {
            browser.get(dashboard.url());
            String expected = "ERROR " + keys.waiting() + " holds a string, expected a list";
            // (the page redraws as events come: the row is looked up again on each try)
            Wait.until("the overview shows the broken kind's row saying why", LIVE, () -> {
                try {
                    return browser.findElement(By.id("kind-row-" + broken)).findElement(By.cssSelector("td.error"))
                            .getText().equals(expected);
                } catch (NoSuchElementException | StaleElementReferenceException e) {
                    return false;
                }
            });
            assertTrue(!browser.findElements(By.id("kind-row-" + STEPPED)).isEmpty()
                    && !browser.findElements(By.id("kind-row-" + HELD)).isEmpty(), "the other kinds are shown");
            assertTrue(browser.findElement(By.id("view")).getText().lines().noneMatch(line -> line.equals("null")),
                    "no stray text: " + browser.findElement(By.id("view")).getText());
            screenshot("overview-broken-kind.png");
        } finally {
            raw.del(keys.waiting());
            raw.srem(Keys.TASK_REGISTRY, broken);
        }
    }

    @Test
    void whatHoldsAKindBackItsDuplicatesAndATasksPriorityAndKeyAreShown() {
        // a kind in the state issue 19's scripts leave, written by hand: 2 running of a cap of 2, its
        // rate window full (1 start per minute), held by a processor, 4 duplicates refused
        String kind = TestRedis.uniqueTaskId("dash.flow");
        Keys keys = Keys.of(kind);
        var raw = harness.redis.sync();
        List<String> time = raw.time();
        long now = Long.parseLong(time.get(0)) * 1000 + Long.parseLong(time.get(1)) / 1000;
        raw.sadd(Keys.TASK_REGISTRY, kind);
        raw.hset(keys.definition(), "keep", "86400");
        raw.hset(keys.flow(), Map.of("max_running", "2", "rate_limit", "1", "rate_per", "60000",
                "held_until", Long.toString(now + 600_000), "held_reason", "the service said <b>429</b>"));
        raw.zadd(keys.rate(), now - 1000, "1:1");
        raw.zadd(keys.leases(), now + 60_000, "1");
        raw.zadd(keys.leases(), now + 60_000, "2");
        raw.hset(keys.stats(), "duplicates", "4");
        raw.hset(keys.task(3), Map.of("status", "WAITING", "args", "[]", "attempt", "0", "current", "0", "total", "0",
                "created_at", Long.toString(now), "priority", "2", "key", "invoice-42"));
        raw.lpush(keys.waiting(2), "3");
        try {
            browser.get(dashboard.url());
            Wait.until("the overview shows what holds " + kind + " back", LIVE, () -> {
                try {
                    WebElement row = browser.findElement(By.id("kind-row-" + kind));
                    return row.findElements(By.cssSelector(".badge.held")).stream().map(e -> e.getDomAttribute("data-held")).toList()
                            .equals(List.of("cap", "rate", "hold"));
                } catch (NoSuchElementException | StaleElementReferenceException e) {
                    return false;
                }
            });
            WebElement row = browser.findElement(By.id("kind-row-" + kind));
            assertEquals("2 / 2", row.findElement(By.cssSelector("td.running")).getText());
            assertEquals("4", row.findElement(By.cssSelector("td.duplicates")).getText());
            assertEquals("1", row.findElements(By.tagName("td")).get(1).getText(), "ready counts the queue of priority 2");
            screenshot("overview-held-back.png");

            browser.get(dashboard.url() + "#/kind/" + kind);
            Wait.until("the kind page says what holds it back", LIVE, () -> !browser.findElements(By.id("kind-held")).isEmpty());
            String held = text("kind-held");
            assertTrue(held.startsWith("Held back: at cap (2 / 2); rate-limited until ") && held.contains(" (1 per 1 min 0 s); held until ")
                    && held.endsWith(" (the service said <b>429</b>)"), held);
            assertTrue(browser.findElements(By.cssSelector("#kind-held b")).isEmpty(), "a reason is text, never markup");
            assertEquals("2 / 2", text("count-running"));
            assertEquals("4", text("count-duplicates"));
            Wait.until("the waiting tab lists the task of priority 2 with its key", LIVE, () -> {
                try {
                    return browser.findElement(By.cssSelector("tr[data-id='3']")).getText().contains("2 invoice-42");
                } catch (NoSuchElementException | StaleElementReferenceException e) {
                    return false;
                }
            });
            screenshot("kind-held-back.png");

            browser.get(dashboard.url() + "#/task/" + kind + "/3");
            Wait.until("the task page shows its priority and key", LIVE,
                    () -> !browser.findElements(By.id("task-key")).isEmpty() && text("task-key").equals("invoice-42"));
            assertEquals("2", text("task-priority"));
        } finally {
            Harness.deleteTaskKeys(kind);
            raw.srem(Keys.TASK_REGISTRY, kind);
        }
    }

    @Test
    void aPartitionedKindShowsItsPartitionsAndWhichOfThemAreHeldBack() {
        String kind = TestRedis.uniqueTaskId("dash.parts");
        AddStore adds = new AddStore(harness.redis);
        adds.publish(new TaskDefinition(kind, "tasks/" + kind + ".yao", "test", 1, 0, Duration.ZERO, Duration.ofSeconds(5),
                30, "scripts.dash.Held", TaskEvents.NONE, Duration.ofSeconds(600), Backoff.FIXED,
                new FlowControl(3, 0, Duration.ZERO, false, Duration.ZERO), 3));
        var raw = harness.redis.sync();
        try {
            AddStore adding = new AddStore(harness.redis);
            for (int i = 0; i < 3; i++) {
                adding.add(kind, null, "[]", System.currentTimeMillis());
            }
            KindLayout layout = KindLayout.fromDefinition(kind, raw.hgetall(Keys.of(kind).definition()));
            // partition 2 runs one task: at its share of the cap (1 of 3), the others are not
            raw.zadd(layout.partition(2).leases(), System.currentTimeMillis() + 600_000, "1");
            browser.get(dashboard.url() + "#/kind/" + kind);
            Wait.until("the kind page lists its three partitions", LIVE,
                    () -> browser.findElements(By.cssSelector("#partition-rows tbody tr")).size() == 3);
            Wait.until("the kind page says which partition is held back", LIVE,
                    () -> !browser.findElements(By.id("kind-held")).isEmpty());
            assertEquals("Held back: partition 2 (" + layout.partitions().get(2) + "): at cap (1 / 1)", text("kind-held"));
            assertEquals("1 / 3", text("count-running"), "running of the partitions' caps, summed");
            assertEquals("3", text("count-waiting"));
            screenshot("kind-partitions.png");
        } finally {
            Harness.deleteTaskKeys(kind);
            raw.srem(Keys.TASK_REGISTRY, kind);
        }
    }

    @Test
    void stopAndStartClickedOnASchedulesRowHoldInRedis() {
        String id = TestRedis.uniqueTaskId("dash-yearly");
        ScheduleOperations schedules = new ScheduleOperations(harness.redis);
        // once a year: the worker running here has nothing to fire while the test clicks
        schedules.put(ScheduleSpec.builder(id).name("new year").cron("0 0 1 1 *").task(HELD).argsJson("[\"fireworks\"]").build(), "test");
        try {
            browser.get(dashboard.url() + "#/schedules");
            Wait.until("the schedules view lists " + id, LIVE, () -> !browser.findElements(By.id("schedule-row-" + id)).isEmpty());
            click("schedule-stop-" + id);
            Wait.until("Redis has the schedule stopped", LIVE, () -> schedules.get(id).orElseThrow().stopped());
            Wait.until("the row offers Start instead", LIVE, () -> !browser.findElements(By.id("schedule-start-" + id)).isEmpty());
            screenshot("schedules-stopped.png");
            click("schedule-start-" + id);
            Wait.until("Redis has the schedule going again", LIVE, () -> !schedules.get(id).orElseThrow().stopped());
            Wait.until("the row offers Stop again", LIVE, () -> !browser.findElements(By.id("schedule-stop-" + id)).isEmpty());
        } finally {
            schedules.remove(id);
        }
    }

    @AfterEach
    void theConsoleShowsNoError() {
        List<String> errors = browser.manage().logs().get(LogType.BROWSER).getAll().stream()
                .filter(entry -> entry.getLevel().intValue() >= Level.SEVERE.intValue())
                .map(LogEntry::getMessage).toList();
        assertEquals(List.of(), errors, "errors in the browser console (scripts, policy violations, failed loads)");
    }

    private static void waitUntilLive() {
        Wait.until("the page's event stream is connected", LIVE,
                () -> "connected".equals(browser.findElement(By.id("live")).getDomAttribute("data-state")));
    }

    /**
     * Clicks the element with {@code id}. The page redraws from its event stream, so the element
     * found may be replaced before the click lands (a stale reference): find it again and retry.
     */
    private static void click(String id) {
        Wait.until("a click on #" + id, LIVE, () -> {
            try {
                browser.findElement(By.id(id)).click();
                return true;
            } catch (StaleElementReferenceException redrawn) {
                return false;
            }
        });
    }

    private static String text(String id) {
        return browser.findElement(By.id(id)).getText().trim();
    }

    private static String progressText() {
        return text("progress-text");
    }

    private static List<String> timelineEvents() {
        return browser.findElements(By.cssSelector("#timeline li[data-event]")).stream()
                .map(item -> item.getDomAttribute("data-event")).toList();
    }

    private static void screenshot(String name) {
        try {
            Path file = SCREENSHOTS.resolve(name);
            Files.write(file, ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
            System.out.println("dashboard screenshot: " + file.toAbsolutePath());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save the screenshot " + name, e);
        }
    }
}
