package dev.taskpool.example.shop;

import dev.taskpool.spring.TaskProcessor;
import dev.taskpool.worker.java.TaskContext;
import java.time.Clock;
import java.time.Instant;
import org.springframework.stereotype.Component;

/** Processes the {@code shop.receipt} tasks: a bean like any other, its kind declared on the method. */
@Component
public class ReceiptProcessor {
    public static final String KIND = "shop.receipt";

    private final Clock clock = Clock.systemUTC();

    @TaskProcessor(value = KIND, workerNums = 4, attempts = 2, timeoutSeconds = 30)
    public Receipt issue(Order order, TaskContext context) {
        if (order.lines().isEmpty()) {
            throw new IllegalArgumentException("order of " + order.customer() + " has no lines");
        }
        long total = 0;
        int done = 0;
        for (Order.Line line : order.lines()) {
            total += line.quantity() * line.unitCents();
            context.progress(++done, order.lines().size(), "priced " + line.item());
        }
        return new Receipt(order.customer(), total, order.lines().size(), Instant.now(clock));
    }
}
