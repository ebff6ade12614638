package org.hope4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The library's public surface is what {@code module-info} exports, and nothing in it leads to an internal type: a
 * public or protected member of a public type of an exported package names only exported or JDK types. A user
 * on the module path could otherwise receive an object it cannot name.
 */
class ApiSurfaceTest {
    /** The packages a user of the library programs against. */
    static final Set<String> API = Set.of("org.hope4j", "org.hope4j.bundle", "org.hope4j.engine", "org.hope4j.sleep");
    /** The implementation: in the module, not exported. */
    static final Set<String> INTERNAL = Set.of("org.hope4j.consolidation", "org.hope4j.engine.cpu", "org.hope4j.graph", "org.hope4j.learner",
            "org.hope4j.level", "org.hope4j.level.simd", "org.hope4j.state");

    /** The folder of the library's compiled classes (target/classes, where the tests run). */
    static Path classes() throws URISyntaxException {
        return Path.of(Learner.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    static ModuleDescriptor descriptor() throws IOException, URISyntaxException {
        Path info = classes().resolve("module-info.class");
        assertTrue(Files.isRegularFile(info), "no module-info.class beside org/hope4j/Learner.class in " + classes());
        try (InputStream in = Files.newInputStream(info)) {
            return ModuleDescriptor.read(in);
        }
    }

    @Test
    void theModuleExportsExactlyTheApiPackages() throws IOException, URISyntaxException {
        ModuleDescriptor d = descriptor();
        assertEquals("org.hope4j", d.name());
        Set<String> exported = d.exports().stream().filter(e -> !e.isQualified()).map(ModuleDescriptor.Exports::source).collect(Collectors.toSet());
        assertEquals(API, exported);
        for (String p : INTERNAL) {
            assertNotNull(Learner.class.getClassLoader().getResource(p.replace('.', '/')), p + " holds classes of the library");
        }
        assertTrue(d.opens().stream().allMatch(o -> o.isQualified() && o.targets().equals(Set.of("com.google.gson"))),
                "packages are opened only to Gson: " + d.opens());
        assertTrue(d.uses().contains("org.hope4j.engine.Backend"), "backends are found with ServiceLoader");
        assertTrue(d.provides().stream().anyMatch(p -> p.service().equals("org.hope4j.engine.Backend")
                && p.providers().contains("org.hope4j.engine.cpu.CpuBackend")), "the CPU engine is provided as a Backend");
    }

    @Test
    void noPublicSignatureOfTheApiNamesAnInternalType() throws Exception {
        Path classes = classes();
        List<String> leaks = new ArrayList<>();
        int checked = 0;
        for (String pkg : API) {
            for (Class<?> c : publicTypes(classes, pkg)) {
                checked++;
                check(c, c.getGenericSuperclass(), "extends", leaks);
                for (Type t : c.getGenericInterfaces()) {
                    check(c, t, "implements", leaks);
                }
                for (Field f : c.getDeclaredFields()) {
                    if (visible(f.getModifiers())) {
                        check(c, f.getGenericType(), "field " + f.getName(), leaks);
                    }
                }
                for (Method m : c.getDeclaredMethods()) {
                    if (visible(m.getModifiers()) && !m.isSynthetic() && !m.isBridge()) {
                        check(c, m.getGenericReturnType(), m.getName() + " returns", leaks);
                        executable(c, m, leaks);
                    }
                }
                for (Constructor<?> k : c.getDeclaredConstructors()) {
                    if (visible(k.getModifiers()) && !k.isSynthetic()) {
                        executable(c, k, leaks);
                    }
                }
            }
        }
        assertTrue(checked > 40, "found only " + checked + " public types under " + classes);
        assertEquals(List.of(), leaks, "public API naming internal types");
    }

    private static void executable(Class<?> c, Executable e, List<String> leaks) {
        for (Type t : e.getGenericParameterTypes()) {
            check(c, t, e.getName() + " takes", leaks);
        }
        for (Type t : e.getGenericExceptionTypes()) {
            check(c, t, e.getName() + " throws", leaks);
        }
    }

    private static boolean visible(int modifiers) {
        return Modifier.isPublic(modifiers) || Modifier.isProtected(modifiers);
    }

    /** Public top-level types of {@code pkg} under {@code classes} and their public (or protected) member types, recursively. */
    private static List<Class<?>> publicTypes(Path classes, String pkg) throws IOException, ClassNotFoundException {
        Path dir = classes.resolve(pkg.replace('.', '/'));
        List<Class<?>> out = new ArrayList<>();
        Set<String> names = new TreeSet<>();
        try (Stream<Path> files = Files.list(dir)) {
            files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".class") && !n.contains("$") && !n.equals("package-info.class"))
                    .forEach(n -> names.add(pkg + "." + n.substring(0, n.length() - 6)));
        }
        for (String n : names) {
            Class<?> c = Class.forName(n, false, Learner.class.getClassLoader());
            if (Modifier.isPublic(c.getModifiers())) {
                addWithMembers(c, out);
            }
        }
        return out;
    }

    private static void addWithMembers(Class<?> c, List<Class<?>> out) {
        out.add(c);
        for (Class<?> m : c.getDeclaredClasses()) {
            if (visible(m.getModifiers())) {
                addWithMembers(m, out);
            }
        }
    }

    private static void check(Class<?> owner, Type t, String where, List<String> leaks) {
        if (t == null) {
            return;
        }
        if (t instanceof Class<?> k) {
            while (k.isArray()) {
                k = k.getComponentType();
            }
            if (k.isPrimitive()) {
                return;
            }
            String p = k.getPackageName();
            if (p.startsWith("org.hope4j") && !API.contains(p)) {
                leaks.add(owner.getName() + ": " + where + " " + k.getName());
            }
        } else if (t instanceof ParameterizedType p) {
            check(owner, p.getRawType(), where, leaks);
            for (Type a : p.getActualTypeArguments()) {
                check(owner, a, where, leaks);
            }
        } else if (t instanceof GenericArrayType g) {
            check(owner, g.getGenericComponentType(), where, leaks);
        } else if (t instanceof WildcardType w) {
            for (Type b : w.getUpperBounds()) {
                check(owner, b, where, leaks);
            }
            for (Type b : w.getLowerBounds()) {
                check(owner, b, where, leaks);
            }
        } else if (t instanceof TypeVariable<?> v) {
            for (Type b : v.getBounds()) {
                if (b != owner) {
                    check(owner, b, where, leaks);
                }
            }
        }
    }
}
