package dev.cna.core.generate.constraint;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The byte-level JSON schema automaton: what it accepts, what it refuses at the first wrong byte, and refusals of schemas. */
class JsonMatcherTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static JsonSchema schema(String json) throws Exception {
        return JsonSchema.compile(JSON.readTree(json));
    }

    private static JsonMatcher run(JsonSchema schema, String text) {
        return JsonMatcher.start(schema, new byte[0], new byte[0]).advance(text.getBytes(StandardCharsets.UTF_8));
    }

    private static boolean completes(JsonSchema schema, String text) {
        JsonMatcher m = run(schema, text);
        return m != null && m.complete();
    }

    private static final String PERSON = """
            {"type":"object","properties":{
              "name":{"type":"string","description":"ignored annotation"},
              "age":{"type":"integer"},
              "score":{"type":"number"},
              "tags":{"type":"array","items":{"type":"string"},"maxItems":2},
              "role":{"enum":["admin","user"]},
              "active":{"type":"boolean"},
              "boss":{"anyOf":[{"type":"null"},{"$ref":"#/$defs/ref"}]}},
             "required":["name","age"],"additionalProperties":false,
             "$defs":{"ref":{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}}}""";

    @Test
    void acceptsDocumentsOfTheSchemaAndRefusesOthers() throws Exception {
        JsonSchema s = schema(PERSON);
        assertTrue(completes(s, "{\"name\":\"Ada \\u00e9 \\\"x\\\" é\",\"age\":-36}"));
        assertTrue(completes(s, "{ \"age\" : 3 ,\n  \"name\": \"b\", \"score\": 1.5e-3, \"tags\": [\"x\", \"y\"],"
                + " \"role\": \"user\", \"active\": false, \"boss\": {\"name\": \"c\"} }"));
        assertTrue(completes(s, "{\"name\":\"a\",\"age\":0,\"boss\":null}"));
        assertFalse(completes(s, "{\"name\":\"a\"}"), "age is required");
        assertNull(run(s, "{\"name\":\"a\"}"), "the closing brace is refused while a required key is missing");
        assertNull(run(s, "{\"nick"), "no declared key starts with 'nick'");
        assertNull(run(s, "{\"name\":\"a\",\"name\""), "a key twice");
        assertNull(run(s, "{\"age\":1.5"), "integer has no fraction");
        assertNull(run(s, "{\"age\":01"), "no leading zero");
        assertNull(run(s, "{\"role\":\"root"), "not in the enum");
        assertNull(run(s, "{\"tags\":[\"a\",\"b\","), "maxItems 2");
        assertNull(run(s, "{\"name\":\"a\nb\"}"), "control character in a string");
        assertNull(run(s, "{\"name\":\"\\q\"}"), "bad escape");
        assertNull(run(s, "[1]"), "the root is an object");
        assertNull(run(s, "{\"name\":\"a\",\"age\":1}x"), "nothing after the document");
        assertNotNull(run(s, "{\"name\":\"\u00e9"), "UTF-8 in strings");
        assertNull(JsonMatcher.start(s, new byte[0], new byte[0]).advance(new byte[] {'{', '"', 'n', 'a', 'm', 'e', '"', ':', '"', (byte) 0xC3, 'a'}),
                "a broken UTF-8 sequence");
    }

    @Test
    void noDeadEnds() throws Exception {
        JsonSchema s = schema("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}},\"additionalProperties\":false}");
        assertNull(run(s, "{\"a\":1,"), "a comma with no key left to write");
        assertTrue(completes(s, "{}"));
        assertNull(run(s, "{" + " ".repeat(JsonMatcher.MAX_WHITESPACE + 1)), "unbounded whitespace");
        assertNotNull(run(s, "{" + " ".repeat(JsonMatcher.MAX_WHITESPACE)));
    }

    @Test
    void stringLengthsInCodePoints() throws Exception {
        JsonSchema s = schema("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\",\"minLength\":2,\"maxLength\":3}}}");
        assertTrue(completes(s, "{\"a\":\"\u00e9\u00e9\u00e9\"}"));
        assertTrue(completes(s, "{\"a\":\"\\n\\u0041\"}"), "an escape is one character");
        assertNull(run(s, "{\"a\":\"x\""), "below minLength");
        assertNull(run(s, "{\"a\":\"abcd"), "above maxLength");
    }

    @Test
    void anyObjectTakesAnyJsonObject() throws Exception {
        JsonSchema any = JsonSchema.anyObject();
        assertTrue(completes(any, "{\"a\": [1, {\"b\": null}, true, \"x\", -2.5E+3], \"c\": {}}"));
        assertNull(run(any, "{\"a\": tru "));
        assertNull(run(any, "\"just a string\""));
        assertFalse(completes(any, "{\"a\": 1"));
    }

    @Test
    void wrappedDocumentNeedsItsTags() throws Exception {
        JsonSchema s = schema("{\"type\":\"object\",\"properties\":{\"name\":{\"const\":\"f\"}},\"required\":[\"name\"]}");
        JsonMatcher m = JsonMatcher.start(s, "<t>\n".getBytes(StandardCharsets.UTF_8), "\n</t>".getBytes(StandardCharsets.UTF_8));
        assertNull(m.advance("{".getBytes(StandardCharsets.UTF_8)));
        JsonMatcher done = m.advance("<t>\n{\"name\": \"f\"}\n</t>".getBytes(StandardCharsets.UTF_8));
        assertTrue(done != null && done.complete());
        assertNull(m.advance("<t>\n{\"name\": \"g\"".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void unsupportedKeywordsAreNamed() {
        for (String keyword : new String[] {"pattern", "format", "multipleOf", "minimum", "allOf", "patternProperties"}) {
            String value = keyword.equals("allOf") ? "[{}]" : keyword.equals("patternProperties") ? "{}" : "\"x\"";
            UnsupportedSchemaException e = assertThrows(UnsupportedSchemaException.class, () -> schema(
                    "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\",\"" + keyword + "\":" + value + "}}}"));
            assertEquals(keyword, e.keyword());
            assertTrue(e.getMessage().contains("'" + keyword + "'"), e.getMessage());
        }
        UnsupportedSchemaException ref = assertThrows(UnsupportedSchemaException.class,
                () -> schema("{\"type\":\"object\",\"properties\":{\"a\":{\"$ref\":\"https://example.com/s.json\"}}}"));
        assertEquals("$ref", ref.keyword());
        assertEquals("$ref", assertThrows(UnsupportedSchemaException.class,
                () -> schema("{\"type\":\"object\",\"properties\":{\"a\":{\"$ref\":\"#/$defs/missing\"}}}")).keyword());
        assertEquals("type", assertThrows(UnsupportedSchemaException.class, () -> schema("{\"type\":\"string\"}")).keyword());
    }

    @Test
    void recursiveReferences() throws Exception {
        JsonSchema tree = schema("{\"$ref\":\"#/$defs/node\",\"$defs\":{\"node\":{\"type\":\"object\",\"properties\":{"
                + "\"v\":{\"type\":\"integer\"},\"kids\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/node\"}}},"
                + "\"required\":[\"v\"]}}}");
        assertTrue(completes(tree, "{\"v\":1,\"kids\":[{\"v\":2,\"kids\":[{\"v\":3}]}]}"));
        assertNull(run(tree, "{\"v\":1,\"kids\":[{\"w\""));
    }
}
