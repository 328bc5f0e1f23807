package dev.cna.gateway;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tool-call blocks read out of a reply however its text is split into tokens; the rest stays content, nothing lost. */
class ToolCallStreamTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The pieces of the text fed in chunks of the given size, then the end. */
    private static List<ToolCallStream.Piece> feed(String text, int chunk) {
        ToolCallStream stream = new ToolCallStream(JSON);
        List<ToolCallStream.Piece> out = new ArrayList<>();
        for (int i = 0; i < text.length(); i += chunk) {
            out.addAll(stream.push(text.substring(i, Math.min(text.length(), i + chunk))));
        }
        out.addAll(stream.finish());
        return out;
    }

    private static String content(List<ToolCallStream.Piece> pieces) {
        StringBuilder text = new StringBuilder();
        pieces.stream().filter(p -> p.content() != null).forEach(p -> text.append(p.content()));
        return text.toString();
    }

    private static List<OpenAi.ToolCall> calls(List<ToolCallStream.Piece> pieces) {
        return pieces.stream().filter(p -> p.call() != null).map(ToolCallStream.Piece::call).toList();
    }

    @Test
    void blocksBecomeCallsAtAnySplit() {
        String reply = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>\n"
                + "<tool_call>\n{\"name\": \"now\", \"arguments\": {}}\n</tool_call>";
        for (int chunk : new int[] {1, 2, 3, 7, reply.length()}) {
            List<ToolCallStream.Piece> pieces = feed(reply, chunk);
            List<OpenAi.ToolCall> calls = calls(pieces);
            assertEquals(2, calls.size(), "chunk " + chunk);
            assertEquals("get_weather", calls.get(0).function().name());
            assertEquals("{\"city\":\"Paris\"}", calls.get(0).function().arguments());
            assertEquals(0, calls.get(0).index());
            assertEquals("now", calls.get(1).function().name());
            assertEquals("{}", calls.get(1).function().arguments());
            assertEquals(1, calls.get(1).index());
            assertTrue(calls.get(0).id().startsWith("call_") && !calls.get(0).id().equals(calls.get(1).id()));
            assertEquals("", content(pieces), "the newline between blocks is not content");
        }
    }

    @Test
    void textAroundAndLookalikesStayContent() {
        String reply = "Let me check. <tool_x> is not a tag; 3 < 4.\n<tool_call>{\"name\": \"now\"}</tool_call>";
        for (int chunk : new int[] {1, 4, reply.length()}) {
            List<ToolCallStream.Piece> pieces = feed(reply, chunk);
            assertEquals("Let me check. <tool_x> is not a tag; 3 < 4.", content(pieces));
            assertEquals("{}", calls(pieces).get(0).function().arguments(), "absent arguments are an empty object");
        }
        String plain = "No tools needed: the answer is 42.\n";
        assertEquals(plain, content(feed(plain, 3)), "a reply without calls comes through whole");
        String broken = "<tool_call>{\"name\": oops}</tool_call> and <tool_call>{\"name\": \"cut";
        List<ToolCallStream.Piece> pieces = feed(broken, 5);
        assertEquals(broken.replace(" and <", " and<"), content(pieces),
                "a malformed or unclosed block stays text, as written (whitespace just before a block is dropped)");
        assertTrue(calls(pieces).isEmpty());
        assertNull(feed("<tool_call>{\"name\":\"now\",\"arguments\":{}}</tool_call>", 4).get(0).content());
    }
}
