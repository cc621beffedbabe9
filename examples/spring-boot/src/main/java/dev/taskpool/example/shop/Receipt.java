package dev.taskpool.example.shop;

import java.time.Instant;

/** What the receipt task returns: the task's response. */
public record Receipt(String customer, long totalCents, int lines, Instant issuedAt) {
}
