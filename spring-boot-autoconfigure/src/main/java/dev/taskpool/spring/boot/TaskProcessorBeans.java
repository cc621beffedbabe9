package dev.taskpool.spring.boot;

import dev.taskpool.spring.TaskProcessor;
import dev.taskpool.spring.TaskSchedule;
import java.lang.annotation.Annotation;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import org.springframework.aop.scope.ScopedProxyUtils;
import org.springframework.aop.support.AopUtils;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.core.MethodIntrospector;
import org.springframework.util.ClassUtils;

/**
 * Finds the singleton beans that have methods annotated for taskpool ({@link TaskProcessor},
 * {@link TaskSchedule}; directly, as the worker reads them), to
 * hand each to {@code EmbeddedWorker.Builder.processors(bean)}. Asked when the worker starts, after
 * the context made its singletons, so that every such bean (lazy ones too) is found.
 */
final class TaskProcessorBeans {
    /**
     * The method annotations that make a bean one the worker must be given (a lone {@code @TaskSchedule}
     * too, so that the worker's builder refuses it by name instead of it being ignored).
     */
    private static final List<Class<? extends Annotation>> MARKERS = List.of(TaskProcessor.class, TaskSchedule.class);

    private TaskProcessorBeans() {
    }

    static List<Object> in(ListableBeanFactory beans) {
        List<Object> found = new ArrayList<>();
        Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());   // (a bean under two names counts once)
        for (String name : beans.getBeanNamesForType(Object.class, false, true)) {
            if (ScopedProxyUtils.isScopedTarget(name)) {
                continue;   // the scoped proxy in front of it is what the application sees
            }
            Class<?> type = beans.getType(name);
            if (type == null) {
                continue;
            }
            Object bean = null;
            Class<?> annotated = ClassUtils.getUserClass(type);
            if (Proxy.isProxyClass(type)) {
                // an interface-based proxy's class shows none of its target's methods: look behind it
                bean = beans.getBean(name);
                annotated = AopUtils.getTargetClass(bean);
            }
            if (!hasMarkedMethods(annotated)) {
                continue;
            }
            bean = bean != null ? bean : beans.getBean(name);
            if (AopUtils.isJdkDynamicProxy(bean)) {
                // The worker calls the annotated methods of the bean's class; an interface-based
                // proxy has none of them, and calling its target would skip the proxy's advice.
                throw new IllegalStateException("bean '" + name + "' has @TaskProcessor methods but is an interface-based"
                        + " (JDK) proxy: let Spring proxy its class (spring.aop.proxy-target-class=true, Boot's default)");
            }
            if (seen.add(bean)) {
                found.add(bean);
            }
        }
        return found;
    }

    static boolean hasMarkedMethods(Class<?> type) {
        return !MethodIntrospector.selectMethods(type, (MethodIntrospector.MetadataLookup<Boolean>) TaskProcessorBeans::marked)
                .isEmpty();
    }

    private static Boolean marked(Method method) {
        for (Class<? extends Annotation> marker : MARKERS) {
            if (method.isAnnotationPresent(marker)) {
                return Boolean.TRUE;
            }
        }
        return null;   // (MethodIntrospector keeps the methods it is given a value for)
    }
}
