package dev.taskpool.example.shop;

import java.util.List;

/** What a customer ordered: the task's argument, stored in Redis as JSON. */
public record Order(String customer, List<Line> lines) {
    public record Line(String item, int quantity, long unitCents) {
    }
}
