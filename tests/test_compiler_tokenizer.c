/* The byte-level BPE tokenizer on a tiny tokenizer.json written here: the 256 byte symbols
 * (GPT-2's bytes_to_unicode, rebuilt here from its definition), six merges and one added
 * token. Encodings worked by hand, GPT-2's pre-tokenizer chunks, decode(encode(x)) = x for
 * arbitrary bytes, and malformed files.
 * LABELS: unit */
#include "harness.h"
#include "trnsim/graph.h"

/* GPT-2 bytes_to_unicode: bytes '!'..'~', 0xA1..0xAC, 0xAE..0xFF keep their code point; the
 * rest, in byte order, get 256, 257, ... */
static int cp_of(int b) {
    int n = 0;
    for (int x = 0; x < 256; x++) {
        int keep = (x >= 33 && x <= 126) || (x >= 161 && x <= 172) || (x >= 174);
        if (x == b) return keep ? x : 256 + n;
        if (!keep) n++;
    }
    return -1;
}

/* JSON string escape of code point cp (\uXXXX for everything but plain ASCII letters). */
static void put_cp(char *o, int cp) {
    char buf[16];
    if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z'))
        snprintf(buf, sizeof buf, "%c", cp);
    else
        snprintf(buf, sizeof buf, "\\u%04x", cp);
    strcat(o, buf);
}

/* vocab: byte b -> id b (as its symbol), then the merges' results: 256 "he", 257 "ll",
 * 258 "hell", 259 "hello", 260 "Ġt", 261 "Ġthe", 262 "Ġb"; added token "<|end|>" = 263. */
static char *make_json(void) {
    char *o = calloc(1, 1 << 16);
    strcat(o, "{\"version\": \"1.0\", \"added_tokens\": [{\"id\": 263, \"content\": \"<|end|>\","
              " \"special\": true}], \"model\": {\"type\": \"BPE\", \"vocab\": {");
    for (int b = 0; b < 256; b++) {
        strcat(o, b ? ", \"" : "\"");
        put_cp(o, cp_of(b));
        char buf[32];
        snprintf(buf, sizeof buf, "\": %d", b);
        strcat(o, buf);
    }
    strcat(o, ", \"he\": 256, \"ll\": 257, \"hell\": 258, \"hello\": 259, \"\\u0120t\": 260,"
              " \"\\u0120the\": 261, \"\\u0120b\": 262}, \"merges\": [\"h e\", \"l l\", \"he ll\","
              " [\"hell\", \"o\"], \"\\u0120 t\", \"\\u0120t he\", \"\\u0120 b\"]}}");
    return o;
}

static void expect(const trn_tokenizer *t, const char *text, const int32_t *want, int64_t n) {
    int32_t *ids = NULL;
    int64_t k = 0;
    trn_err err = {0};
    CHECK_MSG(trn_tokenizer_encode(t, text, strlen(text), &ids, &k, &err) == TRN_OK, "%s", err.msg);
    int same = k == n;
    for (int64_t i = 0; same && i < n; i++) same = ids[i] == want[i];
    CHECK_MSG(same, "encode(\"%s\"): %lld ids, first %d", text, (long long)k, k ? ids[0] : -1);
    char *back = NULL;
    CHECK(trn_tokenizer_decode(t, ids, k, &back, &err) == TRN_OK);
    CHECK_MSG(back && strcmp(back, text) == 0, "decode(encode(\"%s\")) = \"%s\"", text, back);
    free(back);
    free(ids);
}

int main(void) {
    char *json = make_json();
    trn_tokenizer *t = NULL;
    trn_err err = {0};
    CHECK_MSG(trn_tokenizer_parse("tiny/tokenizer.json", json, &t, &err) == TRN_OK, "%s", err.msg);
    free(json);
    if (!t) return test_summary();
    CHECK_EQ_INT(trn_tokenizer_vocab(t), 264);
    /* "hello": h e l l o -> (h e) rank 0 -> (l l) 1 -> (he ll) 2 -> (hell o) 3 = 259.
     * " the": Ġ t h e -> (h e) 0 first, then (Ġ t) 4, then (Ġt he) 5 = 261. */
    expect(t, "hello the", (const int32_t[]){259, 261}, 2);
    /* "a  b": chunks "a", " ", " b" (a space run leaves its last space to the next word) */
    expect(t, "a  b", (const int32_t[]){97, 32, 262}, 3);
    /* contractions split off: "it's" -> "it", "'s"; digits and punctuation are own chunks */
    expect(t, "it's 42!", (const int32_t[]){105, 116, 39, 115, 32, 52, 50, 33}, 8);
    /* the added token is matched literally, between chunks */
    expect(t, "hello<|end|> the", (const int32_t[]){259, 263, 261}, 3);
    /* no merge across chunk boundaries: "he" inside "the" merges, "t he" only after a space */
    expect(t, "the", (const int32_t[]){116, 256}, 2);
    /* UTF-8 and control bytes go through the byte map: e-acute is C3 A9 */
    expect(t, "\xc3\xa9\n\t", (const int32_t[]){0xC3, 0xA9, 10, 9}, 4);
    /* every byte string round trips */
    uint64_t rs = 12345;
    for (int k = 0; k < 200; k++) {
        char buf[40];
        int n = 1 + (int)(test_rnd64(&rs) % 38);
        for (int i = 0; i < n; i++) buf[i] = (char)(1 + test_rnd64(&rs) % 255);
        buf[n] = '\0';
        int32_t *ids = NULL;
        int64_t c = 0;
        char *back = NULL;
        CHECK(trn_tokenizer_encode(t, buf, (size_t)n, &ids, &c, &err) == TRN_OK);
        CHECK(trn_tokenizer_decode(t, ids, c, &back, &err) == TRN_OK);
        CHECK(back && strcmp(back, buf) == 0);
        free(ids);
        free(back);
    }
    /* bad ids */
    char *s = NULL;
    CHECK(trn_tokenizer_decode(t, (const int32_t[]){5, 999}, 2, &s, &err) == TRN_E_RANGE);
    CHECK_CONTAINS(err.msg, "id 999 at 1 is not in the vocabulary");
    trn_tokenizer_destroy(t);
    /* malformed files */
    trn_tokenizer *b = NULL;
    CHECK(trn_tokenizer_parse("x.json",
                              "{\"model\": {\"type\": \"Unigram\", \"vocab\": [],"
                              " \"merges\": []}}",
                              &b, &err) == TRN_E_UNSUPPORTED);
    CHECK_CONTAINS(err.msg, "x.json: model.type: expected \"BPE\", got Unigram");
    CHECK(trn_tokenizer_parse("x.json", "{\"model\": {\"vocab\": {\"a\": 0}, \"merges\": [7]}}", &b,
                              &err) == TRN_E_PARSE);
    CHECK_CONTAINS(err.msg, "x.json: model.merges[0]: expected");
    CHECK(trn_tokenizer_parse("x.json", "{\"model\": {\"vocab\": {\"a\": -1}, \"merges\": []}}", &b,
                              &err) == TRN_E_PARSE);
    CHECK_CONTAINS(err.msg, "model.vocab.a: expected an id >= 0");
    CHECK(trn_tokenizer_parse("x.json", "{\"model\": ", &b, &err) == TRN_E_PARSE);
    CHECK(trn_tokenizer_load("/nonexistent/tokenizer.json", &b, &err) == TRN_E_IO);
    CHECK(b == NULL);
    /* a vocabulary without a byte symbol cannot encode it */
    CHECK(trn_tokenizer_parse("y.json", "{\"model\": {\"vocab\": {\"a\": 0}, \"merges\": []}}", &b,
                              &err) == TRN_OK);
    if (b) {
        int32_t *ids = NULL;
        int64_t c = 0;
        CHECK(trn_tokenizer_encode(b, "ab", 2, &ids, &c, &err) == TRN_E_NOTFOUND);
        CHECK_CONTAINS(err.msg, "symbol 'b' is not in the vocabulary");
        trn_tokenizer_destroy(b);
    }
    return test_summary();
}
