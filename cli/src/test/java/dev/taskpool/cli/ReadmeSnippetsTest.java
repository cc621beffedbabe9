package dev.taskpool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.io.IOException;
import java.io.StringWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every ```java block of the README and of docs/*.md compiles against the current API, so a reader
 * who copies one gets the imports and the calls right. A block is its imports followed by
 * statements; it is compiled as the body of one method (which may throw), nothing else added.
 */
class ReadmeSnippetsTest {
    /** The checkout's top directory: surefire runs the cli module's tests from cli/. */
    private static final Path TOP = Path.of("..").toAbsolutePath().normalize();

    @Test
    void everyJavaSnippetCompiles(@TempDir Path classes) throws IOException {
        List<Snippet> snippets = new ArrayList<>(snippetsOf(TOP.resolve("README.md")));
        try (Stream<Path> docs = Files.list(TOP.resolve("docs"))) {
            for (Path doc : docs.filter(p -> p.toString().endsWith(".md")).sorted().toList()) {
                snippets.addAll(snippetsOf(doc));
            }
        }
        assertFalse(snippets.isEmpty(), "no ```java block found under " + TOP);

        JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
        assertNotNull(compiler, "the tests need a JDK (javax.tools), not a JRE");
        List<String> failures = new ArrayList<>();
        for (Snippet snippet : snippets) {
            StringWriter diagnostics = new StringWriter();
            boolean compiled = compiler.getTask(diagnostics, null, null,
                    List.of("-proc:none", "-classpath", System.getProperty("java.class.path"), "-d", classes.toString()),
                    null, List.of(snippet.source())).call();
            if (!compiled) {
                failures.add(snippet.where() + ":\n" + diagnostics);
            }
        }
        assertEquals(List.of(), failures, "Java snippets that do not compile (file:line of the block)");
    }

    /** The ```java blocks of one Markdown file. */
    private static List<Snippet> snippetsOf(Path markdown) throws IOException {
        List<String> lines = Files.readAllLines(markdown);
        List<Snippet> snippets = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if (!lines.get(i).strip().equals("```java")) {
                continue;
            }
            int opening = i;
            List<String> imports = new ArrayList<>();
            List<String> body = new ArrayList<>();
            for (i++; i < lines.size() && !lines.get(i).strip().equals("```"); i++) {
                String line = lines.get(i);
                (line.startsWith("import ") && body.stream().allMatch(String::isBlank) ? imports : body).add(line);
            }
            snippets.add(new Snippet(TOP.relativize(markdown) + ":" + (opening + 1), imports, body, snippets.size()));
        }
        return snippets;
    }

    private record Snippet(String where, List<String> imports, List<String> body, int index) {
        JavaFileObject source() {
            String className = "Snippet" + index;
            // The imports keep their own lines, so javac's line numbers stay close to the block's.
            String code = String.join("\n", imports) + "\n"
                    + "class " + className + " {\n"
                    + "    void run() throws Exception {\n"
                    + String.join("\n", body) + "\n"
                    + "    }\n"
                    + "}\n";
            return new SimpleJavaFileObject(URI.create("string:///" + className + ".java"), JavaFileObject.Kind.SOURCE) {
                @Override
                public CharSequence getCharContent(boolean ignoreEncodingErrors) {
                    return code;
                }
            };
        }
    }
}
