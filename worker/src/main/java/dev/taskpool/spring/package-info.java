/**
 * The annotations that make a method a task processor: {@link dev.taskpool.spring.TaskProcessor}
 * and {@link dev.taskpool.spring.TaskSchedule}. They depend on nothing: the Spring Boot starter
 * finds them on the application's beans, and without Spring
 * {@code EmbeddedWorker.builder(...).processors(object)} reads them from any object.
 */
package dev.taskpool.spring;
