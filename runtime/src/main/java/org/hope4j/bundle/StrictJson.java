package org.hope4j.bundle;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.gson.stream.MalformedJsonException;
import java.io.IOException;
import java.io.StringReader;
import java.math.BigDecimal;
import org.hope4j.BundleException;

/**
 * Strict JSON (RFC 8259) into a Gson tree: no comments, no unquoted names, no trailing content, no
 * duplicate names; numbers kept exactly as {@link BigDecimal} so that range and integer checks see
 * what the file says.
 */
final class StrictJson {
    private StrictJson() {
    }

    /**
     * Parses {@code text}, which must be one JSON object.
     *
     * @param text the JSON text
     * @param origin the file name to put in front of messages
     * @return the object
     * @throws BundleException naming {@code origin} if the text is not one strict JSON object
     */
    static JsonObject parseObject(String text, String origin) {
        JsonElement e;
        try (JsonReader r = new JsonReader(new StringReader(text))) {
            r.setStrictness(Strictness.STRICT);
            if (r.peek() != JsonToken.BEGIN_OBJECT) {
                throw new BundleException(origin + ": not valid JSON: expected an object at the top level, found " + r.peek());
            }
            e = read(r, origin);
            boolean trailing;
            try {
                trailing = r.peek() != JsonToken.END_DOCUMENT;
            } catch (MalformedJsonException ex) {
                trailing = true; // strict mode refuses a second top-level value before we can name it
            }
            if (trailing) {
                throw new BundleException(origin + ": not valid JSON: content after the top-level object");
            }
        } catch (IOException | IllegalStateException | NumberFormatException ex) {
            throw new BundleException(origin + ": not valid JSON: " + clean(ex.getMessage()), ex);
        }
        return e.getAsJsonObject();
    }

    private static JsonElement read(JsonReader r, String origin) throws IOException {
        switch (r.peek()) {
            case BEGIN_OBJECT -> {
                JsonObject o = new JsonObject();
                r.beginObject();
                while (r.hasNext()) {
                    String name = r.nextName();
                    if (o.has(name)) {
                        throw new BundleException(origin + ": not valid JSON: duplicate name \"" + name + "\" at " + r.getPath());
                    }
                    o.add(name, read(r, origin));
                }
                r.endObject();
                return o;
            }
            case BEGIN_ARRAY -> {
                JsonArray a = new JsonArray();
                r.beginArray();
                while (r.hasNext()) {
                    a.add(read(r, origin));
                }
                r.endArray();
                return a;
            }
            case STRING -> {
                return new JsonPrimitive(r.nextString());
            }
            case NUMBER -> {
                return new JsonPrimitive(new BigDecimal(r.nextString()));
            }
            case BOOLEAN -> {
                return new JsonPrimitive(r.nextBoolean());
            }
            case NULL -> {
                r.nextNull();
                return JsonNull.INSTANCE;
            }
            default -> throw new BundleException(origin + ": not valid JSON: unexpected " + r.peek() + " at " + r.getPath());
        }
    }

    /** Gson's message without its advice to parse leniently and its troubleshooting link. */
    static String clean(String gsonMessage) {
        if (gsonMessage == null) {
            return "malformed JSON";
        }
        String first = gsonMessage.lines().findFirst().orElse("").trim();
        return first.replaceFirst("^Use JsonReader\\.setStrictness\\(Strictness\\.LENIENT\\) to accept malformed JSON", "malformed JSON");
    }

    /** Describes a JSON value for a message: strings quoted, others as written, absent as "nothing". */
    static String show(JsonElement e) {
        if (e == null) {
            return "nothing";
        }
        String s = e.toString();
        return s.length() > 60 ? s.substring(0, 57) + "..." : s;
    }
}
