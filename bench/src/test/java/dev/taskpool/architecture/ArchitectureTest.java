package dev.taskpool.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The layer rules of the code, checked on the compiled main classes of every
 * module: this module's tests see them all. The Redis client library (Lettuce) stays behind the
 * seam in core; the dashboard operates, it does not add or run; the test scaffolding never ships;
 * and the core packages depend one way: redis, connect, lua, add, run, ops; schedules (core.schedule)
 * stand beside adding, running and operating, on connect and lua. The Spring Boot starter wires the
 * client and the worker as an application would, and they (with their annotations) know nothing of Spring.
 *
 * <p>Rules name packages that may not exist yet: each allows an empty selection, so it holds (and
 * starts checking) once its package exists.
 */
class ArchitectureTest {
    /** Where Lettuce may be used: the Redis seam, and the public value types core.redis keeps. */
    private static final String[] REDIS_SEAM = {
            "dev.taskpool.core.connect..", "dev.taskpool.core.lua..", "dev.taskpool.core.add..",
            "dev.taskpool.core.run..", "dev.taskpool.core.ops..", "dev.taskpool.core.redis..", "dev.taskpool.core.schedule.."};
    private static final String SUPPORT = "dev.taskpool.support..";
    private static final String LETTUCE = "io.lettuce..";

    private static JavaClasses main;

    @BeforeAll
    static void importMainClasses() {
        main = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.taskpool");
    }

    /** Every rule below would hold on no classes at all: the modules' main classes must be there to check. */
    @Test
    void theMainClassesOfEveryModuleAreChecked() {
        for (String module : new String[] {"dev.taskpool.core", "dev.taskpool.client", "dev.taskpool.worker", "dev.taskpool.dashboard",
                "dev.taskpool.metrics", "dev.taskpool.cli", "dev.taskpool.bench", "dev.taskpool.spring.boot"}) {
            assertTrue(main.containPackage(module), "no main class of " + module + " on this test's class path");
        }
    }

    private static void check(ArchRule rule) {
        rule.allowEmptyShould(true).check(main);
    }

    @Test
    void lettuceIsUsedOnlyBehindTheRedisSeam() {
        check(noClasses().that().resideOutsideOfPackages(REDIS_SEAM).and().resideOutsideOfPackage(SUPPORT)
                .should().dependOnClassesThat().resideInAPackage(LETTUCE)
                .because("the Redis client library is core's detail: connect, lua, add, run and ops wrap it"));
    }

    @Test
    void theApplicationFacingModulesNeverUseLettuce() {
        check(noClasses().that().resideInAnyPackage("dev.taskpool.client..", "dev.taskpool.worker..", "dev.taskpool.cli..",
                        "dev.taskpool.dashboard..", "dev.taskpool.metrics..", "dev.taskpool.bench..", "dev.taskpool.spring..")
                .should().dependOnClassesThat().resideInAPackage(LETTUCE)
                .because("they talk to Redis through core's classes"));
    }

    @Test
    void theDashboardOperatesAndNeverAddsRunsOrCallsScripts() {
        check(noClasses().that().resideInAnyPackage("dev.taskpool.dashboard..", "dev.taskpool.metrics..")
                .should().dependOnClassesThat().resideInAnyPackage(
                        "dev.taskpool.core.add..", "dev.taskpool.core.run..", "dev.taskpool.core.lua..")
                .because("the dashboard reads and acts through core.ops and core.schedule (and core.model)"));
    }

    @Test
    void theSpringBootStarterWorksThroughTheClientAndTheWorker() {
        check(noClasses().that().resideInAPackage("dev.taskpool.spring.boot..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.taskpool.core.connect..", "dev.taskpool.core.lua..",
                        "dev.taskpool.core.add..", "dev.taskpool.core.run..", "dev.taskpool.worker.runtime..",
                        "dev.taskpool.worker.process..")
                .because("the auto-configuration wires what an application could wire by hand: TaskpoolClient, EmbeddedWorker"));
    }

    @Test
    void theLibrariesAndTheirAnnotationsNeedNoSpring() {
        check(noClasses().that().resideInAnyPackage("dev.taskpool.core..", "dev.taskpool.client..", "dev.taskpool.worker..",
                        "dev.taskpool.spring")
                .should().dependOnClassesThat().resideInAPackage("org.springframework..")
                .because("@TaskProcessor and the embedded worker work without Spring; only the starter's module knows it"));
    }

    @Test
    void noMainClassDependsOnTheTestScaffolding() {
        check(noClasses().that().resideOutsideOfPackage(SUPPORT)
                .should().dependOnClassesThat().resideInAPackage(SUPPORT)
                .because("the support module (a throwaway redis-server, test Redis) is for tests only"));
    }

    @Test
    void theCorePackagesHaveNoCycles() {
        check(slices().matching("dev.taskpool.core.(*)..").should().beFreeOfCycles());
    }

    @Test
    void theCorePackagesDependOneWay() {
        check(noClasses().that().resideInAPackage("dev.taskpool.core.connect..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.taskpool.core.lua..", "dev.taskpool.core.add..",
                        "dev.taskpool.core.run..", "dev.taskpool.core.ops..")
                .because("connecting knows nothing of scripts, adding, running or operating"));
        check(noClasses().that().resideInAPackage("dev.taskpool.core.lua..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.taskpool.core.add..", "dev.taskpool.core.run..",
                        "dev.taskpool.core.ops..")
                .because("the Lua seam serves adding, running and operating, not the other way round"));
        check(noClasses().that().resideInAPackage("dev.taskpool.core.add..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.taskpool.core.run..", "dev.taskpool.core.ops..")
                .because("adding knows nothing of running or operating"));
        check(noClasses().that().resideInAPackage("dev.taskpool.core.run..")
                .should().dependOnClassesThat().resideInAPackage("dev.taskpool.core.ops..")
                .because("operating is built on adding and running"));
        check(noClasses().that().resideInAPackage("dev.taskpool.core.redis..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.taskpool.core.connect..", "dev.taskpool.core.lua..",
                        "dev.taskpool.core.add..", "dev.taskpool.core.run..", "dev.taskpool.core.ops..")
                .because("the public value types applications hold depend on no machinery"));
        check(noClasses().that().resideInAPackage("dev.taskpool.core.schedule..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.taskpool.core.add..", "dev.taskpool.core.run..",
                        "dev.taskpool.core.ops..")
                .because("schedules use connect, lua, definition and json only: a firing adds its task in its own script"));
        check(noClasses().that().resideInAnyPackage("dev.taskpool.core.redis..", "dev.taskpool.core.connect..",
                        "dev.taskpool.core.lua..", "dev.taskpool.core.add..", "dev.taskpool.core.run..", "dev.taskpool.core.ops..",
                        "dev.taskpool.core.definition..", "dev.taskpool.core.json..", "dev.taskpool.core.model..")
                .should().dependOnClassesThat().resideInAPackage("dev.taskpool.core.schedule..")
                .because("nothing below schedules knows of them"));
    }
}
