/* Hot loops of the dedup keys, the dedup barrier and language ID, each the exact counterpart of a
 * numpy function in pipeline/dedup/ or pipeline/steps/langid/, which computes the same values where
 * this module was not built (tests compare the two). Arguments are raw buffers: only their sizes
 * are checked here, so callers pass the dtypes each kernel names (the Python wrappers do).
 *
 * 1. MinHash signatures in datasketch's "affine32" scheme. For every shingle hash h of a row (its
 * low 32 bits, mixed by murmur3's fmix32) and every permutation j: v = a[j] * h + b[j] modulo
 * 2^32; the row's signature is the minimum per j. This is what pipeline.dedup.minhash.MinHasher's
 * numpy path computes, value for value (a test checks it, and against datasketch itself).
 *
 * affine32(flat, offsets, a, b, out): flat uint64[n], offsets uint64[rows + 1] (non-decreasing,
 * offsets[rows] <= n), a and b uint32[num_perm], out uint32[rows * num_perm], written in place.
 * A row without shingles is left all 0xFFFFFFFF.
 *
 * 2. Tokens of a batch of texts (pipeline.dedup.tokens.tokenize), in one pass per text.
 * 3. Shingle hashes of those tokens (pipeline.dedup.tokens.shingle_hashes).
 * 4. The language-ID scan of a batch of documents (pipeline.steps.langid.textscan.TextBatches).
 * 5. Character counts of the sentences language ID judges (textscan.span_counts).
 * 6. The estimated Jaccard of signature pairs in the dedup barrier (pipeline.dedup.store.agreement).
 * 7. The LSH band hashes of signatures (pipeline.dedup.minhash.band_hashes).
 */
#define PY_SSIZE_T_CLEAN
/* The module's VERSION: pipeline/text/kernels.py treats a build of another version (an older _native.c)
 * as not built. Raise both when a kernel is added or changed. */
#define KERNELS_VERSION 3
#include <Python.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define CLONES __attribute__((target_clones("avx2", "default")))
#else
#define CLONES
#endif

static inline uint32_t fmix32(uint32_t h) {
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    h ^= h >> 16;
    return h;
}

CLONES
static void affine32_rows(const uint64_t *flat, const uint64_t *offsets, Py_ssize_t rows,
                          const uint32_t *a, const uint32_t *b, Py_ssize_t perms, uint32_t *out) {
    for (Py_ssize_t r = 0; r < rows; r++) {
        uint32_t *o = out + r * perms;
        for (Py_ssize_t j = 0; j < perms; j++)
            o[j] = 0xFFFFFFFFu;
        for (uint64_t i = offsets[r]; i < offsets[r + 1]; i++) {
            const uint32_t h = fmix32((uint32_t)flat[i]);
            for (Py_ssize_t j = 0; j < perms; j++) {
                const uint32_t v = a[j] * h + b[j];
                o[j] = v < o[j] ? v : o[j];
            }
        }
    }
}

static int check(Py_buffer *buf, Py_ssize_t itemsize, const char *name) {
    if (buf->len % itemsize) {
        PyErr_Format(PyExc_ValueError, "argument %s is not a whole number of %zd-byte items", name, itemsize);
        return 0;
    }
    return 1;
}

static PyObject *affine32(PyObject *self, PyObject *args) {
    Py_buffer flat, offsets, a, b, out;
    if (!PyArg_ParseTuple(args, "y*y*y*y*w*", &flat, &offsets, &a, &b, &out))
        return NULL;
    PyObject *result = NULL;
    if (!check(&flat, 8, "flat") || !check(&offsets, 8, "offsets") || !check(&a, 4, "a") || !check(&b, 4, "b")
        || !check(&out, 4, "out"))
        goto done;
    Py_ssize_t n = flat.len / 8, rows = offsets.len / 8 - 1, perms = a.len / 4;
    if (rows < 0 || perms == 0 || b.len != a.len || out.len / 4 != rows * perms) {
        PyErr_SetString(PyExc_ValueError, "affine32: the sizes of offsets, a, b and out do not agree");
        goto done;
    }
    const uint64_t *off = (const uint64_t *)offsets.buf;
    for (Py_ssize_t r = 0; r < rows; r++) {
        if (off[r] > off[r + 1] || off[r + 1] > (uint64_t)n) {
            PyErr_SetString(PyExc_ValueError, "affine32: offsets must be non-decreasing and within flat");
            goto done;
        }
    }
    Py_BEGIN_ALLOW_THREADS
    affine32_rows((const uint64_t *)flat.buf, off, rows, (const uint32_t *)a.buf, (const uint32_t *)b.buf, perms,
                  (uint32_t *)out.buf);
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
done:
    PyBuffer_Release(&flat);
    PyBuffer_Release(&offsets);
    PyBuffer_Release(&a);
    PyBuffer_Release(&b);
    PyBuffer_Release(&out);
    return result;
}

/* tokens(cps, offsets, packed, norm, norm_offsets, tok_starts, tok_hash, tok_offsets, cjk) -> (m, k)
 *
 * cps uint32[n]: the code points of the texts, concatenated; offsets int64[texts + 1]; packed
 * uint32[...]: chars.tables()["packed"] (bit 22: word character, bit 23: CJK or Thai, bits 0-20:
 * the lower-case code point). Written: norm uint32[>= n] (the word characters, lower case, m of
 * them), norm_offsets int64[texts + 1], tok_starts int64[>= n] and tok_hash uint64[>= n] (k
 * tokens), tok_offsets int64[texts + 1], cjk uint8[texts].
 *
 * A text is CJK when more than a third of its word characters are CJK or Thai; then every word
 * character is a token, otherwise a token is a run of word characters. A token's hash is
 * fmix64(sum((c + 1) * P^i)) modulo 2^64 over its characters c at offsets i, P = 0x100000001B3:
 * what the numpy version gets from prefix sums. */
static inline uint64_t fmix64(uint64_t h) {
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ull;
    h ^= h >> 33;
    return h;
}

#define WORD (1u << 22)
#define CJK (1u << 23)
#define LOWER 0x1FFFFFu
#define P 0x100000001B3ull

static void tokens_of(const uint32_t *cps, const int64_t *offsets, Py_ssize_t texts, const uint32_t *packed,
                      Py_ssize_t table, uint32_t *norm, int64_t *norm_offsets, int64_t *tok_starts,
                      uint64_t *tok_hash, int64_t *tok_offsets, uint8_t *cjk, int64_t *m_out, int64_t *k_out) {
    int64_t m = 0, k = 0;
    for (Py_ssize_t t = 0; t < texts; t++) {
        const int64_t lo = offsets[t], hi = offsets[t + 1];
        int64_t n_word = 0, n_cjk = 0;
        for (int64_t j = lo; j < hi; j++) {
            const uint32_t v = cps[j] < (uint32_t)table ? packed[cps[j]] : 0;
            n_word += (v & WORD) != 0;
            n_cjk += (v & WORD) && (v & CJK);
        }
        const int is_cjk = n_cjk * 3 > n_word;
        cjk[t] = (uint8_t)is_cjk;
        norm_offsets[t] = m;
        tok_offsets[t] = k;
        int64_t last = -2;          /* index in cps of the previous word character */
        uint64_t h = 0, pw = 1;
        int open = 0;
        for (int64_t j = lo; j < hi; j++) {
            const uint32_t v = cps[j] < (uint32_t)table ? packed[cps[j]] : 0;
            if (!(v & WORD))
                continue;
            if (is_cjk || !open || last != j - 1) {
                if (open)
                    tok_hash[k - 1] = fmix64(h);
                tok_starts[k++] = m;
                h = 0;
                pw = 1;
                open = 1;
            }
            const uint32_t c = v & LOWER;
            norm[m++] = c;
            h += ((uint64_t)c + 1) * pw;
            pw *= P;
            last = j;
        }
        if (open)
            tok_hash[k - 1] = fmix64(h);
    }
    norm_offsets[texts] = m;
    tok_offsets[texts] = k;
    *m_out = m;
    *k_out = k;
}

static PyObject *tokens(PyObject *self, PyObject *args) {
    Py_buffer b[9];
    static const char *names[9] = {"cps", "offsets", "packed", "norm", "norm_offsets", "tok_starts", "tok_hash",
                                   "tok_offsets", "cjk"};
    static const Py_ssize_t sizes[9] = {4, 8, 4, 4, 8, 8, 8, 8, 1};
    if (!PyArg_ParseTuple(args, "y*y*y*w*w*w*w*w*w*", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &b[6], &b[7], &b[8]))
        return NULL;
    PyObject *result = NULL;
    for (int i = 0; i < 9; i++)
        if (!check(&b[i], sizes[i], names[i]))
            goto done;
    Py_ssize_t n = b[0].len / 4, texts = b[1].len / 8 - 1;
    if (texts < 0 || b[3].len / 4 < n || b[4].len / 8 != texts + 1 || b[5].len / 8 < n || b[6].len / 8 < n
        || b[7].len / 8 != texts + 1 || b[8].len != texts) {
        PyErr_SetString(PyExc_ValueError, "tokens: the sizes of the arrays do not agree");
        goto done;
    }
    const int64_t *off = (const int64_t *)b[1].buf;
    for (Py_ssize_t t = 0; t < texts; t++) {
        if (off[t] < 0 || off[t] > off[t + 1] || off[t + 1] > (int64_t)n) {
            PyErr_SetString(PyExc_ValueError, "tokens: offsets must be non-decreasing and within cps");
            goto done;
        }
    }
    int64_t m = 0, k = 0;
    Py_BEGIN_ALLOW_THREADS
    tokens_of((const uint32_t *)b[0].buf, off, texts, (const uint32_t *)b[2].buf, b[2].len / 4, (uint32_t *)b[3].buf,
              (int64_t *)b[4].buf, (int64_t *)b[5].buf, (uint64_t *)b[6].buf, (int64_t *)b[7].buf, (uint8_t *)b[8].buf,
              &m, &k);
    Py_END_ALLOW_THREADS
    result = Py_BuildValue("(LL)", (long long)m, (long long)k);
done:
    for (int i = 0; i < 9; i++)
        PyBuffer_Release(&b[i]);
    return result;
}

/* shingles(tok_hash, tok_offsets, cjk, n_words, n_cjk, flat, flat_offsets) -> count
 *
 * tok_hash uint64[T], tok_offsets int64[rows + 1], cjk uint8[rows]; written: flat uint64[>= T]
 * and flat_offsets uint64[rows + 1]. A row's shingles are its windows of n consecutive tokens
 * (n = n_cjk for a CJK row, else n_words), in order; a row with fewer tokens has one shingle of
 * them all, a row without tokens none. A shingle's hash is fmix64 of h = h * Q + token hash over
 * its tokens, from h = 0, modulo 2^64. */
#define Q 0x9E3779B97F4A7C15ull

static int64_t shingles_of(const uint64_t *tok_hash, const int64_t *tok_offsets, Py_ssize_t rows, const uint8_t *cjk,
                           int64_t n_words, int64_t n_cjk, uint64_t *flat, uint64_t *flat_offsets) {
    int64_t out = 0;
    for (Py_ssize_t r = 0; r < rows; r++) {
        flat_offsets[r] = (uint64_t)out;
        const int64_t lo = tok_offsets[r], hi = tok_offsets[r + 1], ntok = hi - lo;
        const int64_t n = cjk[r] ? n_cjk : n_words;
        if (ntok <= 0)
            continue;
        const int64_t windows = ntok >= n ? ntok - n + 1 : 1, width = ntok >= n ? n : ntok;
        for (int64_t w = 0; w < windows; w++) {
            uint64_t h = 0;
            for (int64_t i = 0; i < width; i++)
                h = h * Q + tok_hash[lo + w + i];
            flat[out++] = fmix64(h);
        }
    }
    flat_offsets[rows] = (uint64_t)out;
    return out;
}

static PyObject *shingles(PyObject *self, PyObject *args) {
    Py_buffer b[5];
    long long n_words, n_cjk;
    static const char *names[5] = {"tok_hash", "tok_offsets", "cjk", "flat", "flat_offsets"};
    static const Py_ssize_t sizes[5] = {8, 8, 1, 8, 8};
    if (!PyArg_ParseTuple(args, "y*y*y*LLw*w*", &b[0], &b[1], &b[2], &n_words, &n_cjk, &b[3], &b[4]))
        return NULL;
    PyObject *result = NULL;
    for (int i = 0; i < 5; i++)
        if (!check(&b[i], sizes[i], names[i]))
            goto done;
    Py_ssize_t T = b[0].len / 8, rows = b[1].len / 8 - 1;
    if (rows < 0 || b[2].len != rows || b[3].len / 8 < T || b[4].len / 8 != rows + 1 || n_words < 1 || n_cjk < 1) {
        PyErr_SetString(PyExc_ValueError, "shingles: the sizes of the arrays do not agree");
        goto done;
    }
    const int64_t *off = (const int64_t *)b[1].buf;
    for (Py_ssize_t r = 0; r < rows; r++) {
        if (off[r] < 0 || off[r] > off[r + 1] || off[r + 1] > (int64_t)T) {
            PyErr_SetString(PyExc_ValueError, "shingles: offsets must be non-decreasing and within tok_hash");
            goto done;
        }
    }
    int64_t count = 0;
    Py_BEGIN_ALLOW_THREADS
    count = shingles_of((const uint64_t *)b[0].buf, off, rows, (const uint8_t *)b[2].buf, n_words, n_cjk,
                        (uint64_t *)b[3].buf, (uint64_t *)b[4].buf);
    Py_END_ALLOW_THREADS
    result = PyLong_FromLongLong(count);
done:
    for (int i = 0; i < 5; i++)
        PyBuffer_Release(&b[i]);
    return result;
}

/* scan(cps, offsets, packed, classes, table, longest, out_classes, hit_starts, hit_buckets, ntok, letters)
 *     -> hits
 *
 * cps uint32[n], offsets int64[docs + 1], packed and classes: chars.tables()'s "packed" (uint32)
 * and "classes" (uint8), table uint64[2^bits]: the function words' keys by bucket (the key's top
 * bits). Written: out_classes uint8[n] (classes[cp]), ntok int64[docs] (word runs per document),
 * letters int64[docs * 16] (each document's letters by script: classes bits 4-7),
 * and for each run of 2..longest word characters whose key is in the table, in order, its start
 * (hit_starts int64[>= n]) and bucket (hit_buckets int64[>= n]). A run's key is fmix64(length +
 * sum(c_i * P^(i + 1))) over its lower-case code points c_i, modulo 2^64: textscan._token_keys. */
static int64_t scan_of(const uint32_t *cps, const int64_t *offsets, Py_ssize_t docs, const uint32_t *packed,
                       Py_ssize_t n_packed, const uint8_t *classes, Py_ssize_t n_classes, const uint64_t *table,
                       int bits, int64_t longest, uint8_t *out_classes, int64_t *hit_starts, int64_t *hit_buckets,
                       int64_t *ntok, int64_t *letters) {
    int64_t hits = 0;
    for (Py_ssize_t d = 0; d < docs; d++) {
        const int64_t lo = offsets[d], hi = offsets[d + 1];
        int64_t runs = 0, start = -1, len = 0;
        uint64_t key = 0, pw = 1;
        int64_t *by_script = letters + 16 * d;
        for (int s = 0; s < 16; s++)
            by_script[s] = 0;
        for (int64_t j = lo; j <= hi; j++) {
            int word = 0;
            uint32_t v = 0;
            if (j < hi) {
                const uint32_t cp = cps[j];
                const uint8_t c = cp < (uint32_t)n_classes ? classes[cp] : 0;
                v = cp < (uint32_t)n_packed ? packed[cp] : cp;
                out_classes[j] = c;
                by_script[c >> 4] += c & 1;
                word = (v & WORD) != 0;
            }
            if (word) {
                if (start < 0) {
                    start = j;
                    len = 0;
                    key = 0;
                    pw = 1;
                    runs++;
                }
                len++;
                if (len <= longest) {
                    pw *= P;
                    key += (uint64_t)(v & LOWER) * pw;
                }
            } else if (start >= 0) {
                if (len >= 2 && len <= longest) {
                    const uint64_t k = fmix64(key + (uint64_t)len);
                    const uint64_t bucket = k >> (64 - bits);
                    if (table[bucket] == k) {
                        hit_starts[hits] = start;
                        hit_buckets[hits] = (int64_t)bucket;
                        hits++;
                    }
                }
                start = -1;
            }
        }
        ntok[d] = runs;
    }
    return hits;
}

static PyObject *scan(PyObject *self, PyObject *args) {
    Py_buffer b[10];
    long long longest;
    static const char *names[10] = {"cps", "offsets", "packed", "classes", "table", "out_classes", "hit_starts",
                                    "hit_buckets", "ntok", "letters"};
    static const Py_ssize_t sizes[10] = {4, 8, 4, 1, 8, 1, 8, 8, 8, 8};
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*Lw*w*w*w*w*", &b[0], &b[1], &b[2], &b[3], &b[4], &longest, &b[5], &b[6],
                          &b[7], &b[8], &b[9]))
        return NULL;
    PyObject *result = NULL;
    for (int i = 0; i < 10; i++)
        if (!check(&b[i], sizes[i], names[i]))
            goto done;
    Py_ssize_t n = b[0].len / 4, docs = b[1].len / 8 - 1, n_table = b[4].len / 8;
    int bits = 0;
    while (bits < 63 && ((Py_ssize_t)1 << bits) < n_table)
        bits++;
    if (docs < 0 || n_table < 2 || ((Py_ssize_t)1 << bits) != n_table || b[5].len != n || b[6].len / 8 < n
        || b[7].len / 8 < n || b[8].len / 8 != docs || b[9].len / 8 != 16 * docs || longest < 2) {
        PyErr_SetString(PyExc_ValueError, "scan: the sizes of the arrays do not agree");
        goto done;
    }
    const int64_t *off = (const int64_t *)b[1].buf;
    for (Py_ssize_t d = 0; d < docs; d++) {
        if (off[d] < 0 || off[d] > off[d + 1] || off[d + 1] > (int64_t)n) {
            PyErr_SetString(PyExc_ValueError, "scan: offsets must be non-decreasing and within cps");
            goto done;
        }
    }
    int64_t hits = 0;
    Py_BEGIN_ALLOW_THREADS
    hits = scan_of((const uint32_t *)b[0].buf, off, docs, (const uint32_t *)b[2].buf, b[2].len / 4,
                   (const uint8_t *)b[3].buf, b[3].len, (const uint64_t *)b[4].buf, bits, longest,
                   (uint8_t *)b[5].buf, (int64_t *)b[6].buf, (int64_t *)b[7].buf, (int64_t *)b[8].buf,
                   (int64_t *)b[9].buf);
    Py_END_ALLOW_THREADS
    result = PyLong_FromLongLong(hits);
done:
    for (int i = 0; i < 10; i++)
        PyBuffer_Release(&b[i]);
    return result;
}

/* span_counts(cls, offsets, starts, ends, span_doc, cjk_code, main, letters, nonspace, words, own, cjk)
 *
 * cls uint8[n]: a batch's character classes (bit 0 letter, bit 1 space, bits 4-7 script, 0 = none);
 * offsets int64[docs + 1]; spans [starts[i], ends[i]) (int64, within n) of document span_doc[i]
 * (int64). Written: main int64[docs], the most frequent script of each document (the lowest on a
 * tie; -1 when it has none), and per span (int32): letters, non-space characters, words (a
 * non-space character at the span's start or after a space), characters in its document's main
 * script (own) and CJK characters (script cjk_code). */
static void span_counts_of(const uint8_t *cls, const int64_t *offsets, Py_ssize_t docs, const int64_t *starts,
                           const int64_t *ends, const int64_t *span_doc, Py_ssize_t spans, int cjk_code, int64_t *main,
                           int32_t *letters, int32_t *nonspace, int32_t *words, int32_t *own, int32_t *cjk) {
    for (Py_ssize_t d = 0; d < docs; d++) {
        int64_t count[16] = {0};
        for (int64_t j = offsets[d]; j < offsets[d + 1]; j++)
            count[cls[j] >> 4]++;
        int64_t best = -1, top = 0;
        for (int sc = 1; sc < 16; sc++)
            if (count[sc] > top) {
                top = count[sc];
                best = sc;
            }
        main[d] = best;
    }
    for (Py_ssize_t i = 0; i < spans; i++) {
        const int64_t m = main[span_doc[i]];
        int32_t nl = 0, ns = 0, nw = 0, no = 0, nc = 0;
        int prev_space = 1;
        for (int64_t j = starts[i]; j < ends[i]; j++) {
            const uint8_t c = cls[j];
            const int space = (c & 2) != 0, sc = c >> 4;
            nl += c & 1;
            ns += !space;
            nw += !space && prev_space;
            no += sc == m;
            nc += sc == cjk_code;
            prev_space = space;
        }
        letters[i] = nl;
        nonspace[i] = ns;
        words[i] = nw;
        own[i] = no;
        cjk[i] = nc;
    }
}

static PyObject *span_counts(PyObject *self, PyObject *args) {
    Py_buffer b[11];
    int cjk_code;
    static const char *names[11] = {"cls", "offsets", "starts", "ends", "span_doc", "main", "letters", "nonspace",
                                    "words", "own", "cjk"};
    static const Py_ssize_t sizes[11] = {1, 8, 8, 8, 8, 8, 4, 4, 4, 4, 4};
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*iw*w*w*w*w*w*", &b[0], &b[1], &b[2], &b[3], &b[4], &cjk_code, &b[5], &b[6],
                          &b[7], &b[8], &b[9], &b[10]))
        return NULL;
    PyObject *result = NULL;
    for (int i = 0; i < 11; i++)
        if (!check(&b[i], sizes[i], names[i]))
            goto done;
    Py_ssize_t n = b[0].len, docs = b[1].len / 8 - 1, spans = b[2].len / 8;
    int ok = docs >= 0 && b[3].len / 8 == spans && b[4].len / 8 == spans && b[5].len / 8 == docs;
    for (int i = 6; i < 11; i++)
        ok = ok && b[i].len / 4 == spans;
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "span_counts: the sizes of the arrays do not agree");
        goto done;
    }
    const int64_t *off = (const int64_t *)b[1].buf, *st = (const int64_t *)b[2].buf, *en = (const int64_t *)b[3].buf,
                  *sd = (const int64_t *)b[4].buf;
    for (Py_ssize_t d = 0; d < docs; d++) {
        if (off[d] < 0 || off[d] > off[d + 1] || off[d + 1] > (int64_t)n) {
            PyErr_SetString(PyExc_ValueError, "span_counts: offsets must be non-decreasing and within cls");
            goto done;
        }
    }
    for (Py_ssize_t i = 0; i < spans; i++) {
        if (st[i] < 0 || en[i] > (int64_t)n || sd[i] < 0 || sd[i] >= docs) {
            PyErr_SetString(PyExc_ValueError, "span_counts: a span lies outside the batch");
            goto done;
        }
    }
    Py_BEGIN_ALLOW_THREADS
    span_counts_of((const uint8_t *)b[0].buf, off, docs, st, en, sd, spans, cjk_code, (int64_t *)b[5].buf,
                   (int32_t *)b[6].buf, (int32_t *)b[7].buf, (int32_t *)b[8].buf, (int32_t *)b[9].buf,
                   (int32_t *)b[10].buf);
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
done:
    for (int i = 0; i < 11; i++)
        PyBuffer_Release(&b[i]);
    return result;
}

/* agreement(sa, ia, sb, ib, width, out): for every j, the share of the width values of rows
 * sa[ia[j]] and sb[ib[j]] that are equal (the estimated Jaccard of two MinHash signatures), into
 * out[j]. sa and sb uint32[rows * width] (C order), ia and ib int64[k], out float64[k]; every index
 * must name a row (0 <= index < rows: no wrapping of negative indices as numpy does). The numpy
 * version gathers both rows and compares them in temporaries. */
CLONES
static void agreement_of(const uint32_t *sa, const int64_t *ia, const uint32_t *sb, const int64_t *ib,
                         Py_ssize_t k, Py_ssize_t w, double *out) {
    for (Py_ssize_t j = 0; j < k; j++) {
        const uint32_t *x = sa + ia[j] * w, *y = sb + ib[j] * w;
        int64_t same = 0;
        for (Py_ssize_t i = 0; i < w; i++)
            same += x[i] == y[i];
        out[j] = (double)same / (double)w;
    }
}

static PyObject *agreement(PyObject *self, PyObject *args) {
    Py_buffer b[5];
    Py_ssize_t w;
    if (!PyArg_ParseTuple(args, "y*y*y*y*nw*", &b[0], &b[1], &b[2], &b[3], &w, &b[4]))
        return NULL;
    PyObject *result = NULL;
    static const char *names[5] = {"sa", "ia", "sb", "ib", "out"};
    static const Py_ssize_t sizes[5] = {4, 8, 4, 8, 8};
    for (int i = 0; i < 5; i++)
        if (!check(&b[i], sizes[i], names[i]))
            goto done;
    Py_ssize_t k = b[1].len / 8;
    if (w <= 0 || b[3].len / 8 != k || b[4].len / 8 != k || (b[0].len / 4) % w || (b[2].len / 4) % w) {
        PyErr_SetString(PyExc_ValueError, "agreement: the sizes of sa, ia, sb, ib, out and width do not agree");
        goto done;
    }
    const Py_ssize_t na = b[0].len / 4 / w, nb = b[2].len / 4 / w;
    const int64_t *ia = (const int64_t *)b[1].buf, *ib = (const int64_t *)b[3].buf;
    for (Py_ssize_t j = 0; j < k; j++) {
        if (ia[j] < 0 || ia[j] >= na || ib[j] < 0 || ib[j] >= nb) {
            PyErr_SetString(PyExc_IndexError, "agreement: an index names no row");
            goto done;
        }
    }
    Py_BEGIN_ALLOW_THREADS
    agreement_of((const uint32_t *)b[0].buf, ia, (const uint32_t *)b[2].buf, ib, k, w, (double *)b[4].buf);
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
done:
    for (int i = 0; i < 5; i++)
        PyBuffer_Release(&b[i]);
    return result;
}

/* Per row i and band b of sig (rows x width uint32, width = bands * per): FNV-1a-like over the
 * band's values, each step followed by h ^= h >> 29, then salted by b; out[b * rows + i]. */
static void band_hashes_of(const uint32_t *sig, Py_ssize_t rows, Py_ssize_t bands, Py_ssize_t per, uint64_t *out) {
    for (Py_ssize_t i = 0; i < rows; i++) {
        const uint32_t *x = sig + i * bands * per;
        for (Py_ssize_t b = 0; b < bands; b++) {
            uint64_t h = 0xcbf29ce484222325ull;
            for (Py_ssize_t r = 0; r < per; r++) {
                h = (h ^ (uint64_t)x[b * per + r]) * 0x100000001b3ull;
                h ^= h >> 29;
            }
            out[b * rows + i] = h + (uint64_t)b * 0x9E3779B97F4A7C15ull;
        }
    }
}

static PyObject *bands(PyObject *self, PyObject *args) {
    Py_buffer sig, out;
    Py_ssize_t width, nb;
    if (!PyArg_ParseTuple(args, "y*nnw*", &sig, &width, &nb, &out))
        return NULL;
    PyObject *result = NULL;
    if (!check(&sig, 4, "sig") || !check(&out, 8, "out"))
        goto done;
    if (width <= 0 || nb <= 0 || width % nb || (sig.len / 4) % width || out.len / 8 != sig.len / 4 / width * nb) {
        PyErr_SetString(PyExc_ValueError, "bands: the sizes of sig, width, bands and out do not agree");
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    band_hashes_of((const uint32_t *)sig.buf, sig.len / 4 / width, nb, width / nb, (uint64_t *)out.buf);
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
done:
    PyBuffer_Release(&sig);
    PyBuffer_Release(&out);
    return result;
}

static PyMethodDef methods[] = {
    {"affine32", affine32, METH_VARARGS,
     "affine32(flat, offsets, a, b, out): MinHash signatures (datasketch's affine32 scheme) into out."},
    {"tokens", tokens, METH_VARARGS,
     "tokens(cps, offsets, packed, norm, norm_offsets, tok_starts, tok_hash, tok_offsets, cjk) -> (m, k)"},
    {"scan", scan, METH_VARARGS,
     "scan(cps, offsets, packed, classes, table, longest, out_classes, hit_starts, hit_buckets, ntok, letters) -> hits"},
    {"span_counts", span_counts, METH_VARARGS,
     "span_counts(cls, offsets, starts, ends, span_doc, cjk_code, main, letters, nonspace, words, own, cjk)"},
    {"agreement", agreement, METH_VARARGS,
     "agreement(sa, ia, sb, ib, width, out): estimated Jaccard of the signature pairs (sa[ia[j]], sb[ib[j]])."},
    {"bands", bands, METH_VARARGS,
     "bands(sig, width, bands, out): the LSH band hashes of signatures sig (rows x width uint32) into out (bands x rows)."},
    {"shingles", shingles, METH_VARARGS, "shingles(tok_hash, tok_offsets, cjk, n_words, n_cjk, flat, flat_offsets) -> count"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_native", NULL, -1, methods};

PyMODINIT_FUNC PyInit__native(void) {
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && PyModule_AddIntConstant(m, "VERSION", KERNELS_VERSION) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
