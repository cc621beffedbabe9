package dev.taskpool.worker.java;

import com.fasterxml.jackson.databind.JavaType;
import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.json.Json;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Parameter;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Runs one annotated method as a kind's processor: binds the task's arguments to its parameters by
 * position (Jackson converts each plain JSON value to the parameter's type, generics included),
 * gives a {@link TaskContext} parameter the run's context, and turns what it returns into plain
 * JSON values for the task's response.
 */
final class MethodProcessor implements JavaProcessor {
    private final Object bean;
    private final Method method;
    private final JavaType[] types;       // null where the parameter is the TaskContext
    private final int argumentCount;
    private final String label;

    MethodProcessor(Object bean, Method method) {
        this.bean = Modifier.isStatic(method.getModifiers()) ? null : bean;
        this.method = method;
        this.label = describe(method);
        Parameter[] parameters = method.getParameters();
        this.types = new JavaType[parameters.length];
        int arguments = 0;
        for (int i = 0; i < parameters.length; i++) {
            if (parameters[i].getType() == TaskContext.class) {
                continue;
            }
            types[i] = Json.MAPPER.getTypeFactory().constructType(parameters[i].getParameterizedType());
            arguments++;
        }
        this.argumentCount = arguments;
        method.trySetAccessible();   // a package-private method of a bean works too
    }

    /** {@code MailService.send(Mail, TaskContext)}: how messages name the method. */
    static String describe(Method method) {
        return method.getDeclaringClass().getSimpleName() + "." + method.getName() + Arrays.stream(method.getParameterTypes())
                .map(Class::getSimpleName).collect(Collectors.joining(", ", "(", ")"));
    }

    String label() {
        return label;
    }

    @Override
    public Object process(List<Object> args, TaskContext context) {
        if (args.size() > argumentCount) {
            throw new IllegalArgumentException(label + " takes " + argumentCount + " argument(s), the task has "
                    + args.size());
        }
        Object[] values = new Object[types.length];
        int next = 0;
        for (int i = 0; i < types.length; i++) {
            if (types[i] == null) {
                values[i] = context;
            } else {
                values[i] = bind(next < args.size() ? args.get(next) : null, i, next);
                next++;
            }
        }
        Object result;
        try {
            result = method.invoke(bean, values);
        } catch (InvocationTargetException e) {
            throw JavaProcessorException.of(e.getCause());
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(label + " cannot be called: " + e.getMessage(), e);
        }
        return method.getReturnType() == void.class ? null : Json.plain(result);
    }

    private Object bind(Object value, int parameter, int argument) {
        try {
            return Json.convert(value, types[parameter]);
        } catch (TaskpoolException e) {
            throw new IllegalArgumentException(label + ": argument " + (argument + 1) + " does not fit "
                    + types[parameter].toCanonical() + ": " + firstLine(e.getMessage()), e);
        }
    }

    private static String firstLine(String text) {
        if (text == null) {
            return "";
        }
        int end = text.indexOf('\n');
        return end < 0 ? text : text.substring(0, end);
    }
}
