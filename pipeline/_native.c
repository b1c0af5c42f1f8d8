/* MinHash signatures in datasketch's "affine32" scheme, the hot loop of the dedup keys.
 *
 * For every shingle hash h of a row (its low 32 bits, mixed by murmur3's fmix32) and every
 * permutation j: v = a[j] * h + b[j] modulo 2^32; the row's signature is the minimum per j.
 * This is what pipeline.dedup.MinHasher's numpy path computes, value for value (a test checks
 * it, and against datasketch itself); the numpy path is the fallback when this module was not
 * built. It exists because rensa hands its signatures back only as Python lists, which cost
 * ~5x its hashing.
 *
 * affine32(flat, offsets, a, b, out): flat uint64[n], offsets uint64[rows + 1] (non-decreasing,
 * offsets[rows] <= n), a and b uint32[num_perm], out uint32[rows * num_perm], written in place.
 * A row without shingles is left all 0xFFFFFFFF.
 */
#define PY_SSIZE_T_CLEAN
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
        PyErr_Format(PyExc_ValueError, "affine32: %s is not a whole number of %zd-byte items", name, itemsize);
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

static PyMethodDef methods[] = {
    {"affine32", affine32, METH_VARARGS,
     "affine32(flat, offsets, a, b, out): MinHash signatures (datasketch's affine32 scheme) into out."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_native", NULL, -1, methods};

PyMODINIT_FUNC PyInit__native(void) { return PyModule_Create(&module); }
