/* The C twin of columnar.split's numpy path: runtrack.store.sql._columnar.split.
 *
 * split(ids, types, steps, times, values, skip, group_of, tables) takes a columnar
 * batch's points from index `skip` on and the metric-id -> group table made in Python
 * (group_of: uint16 or uint32 numbers, one per id; tables: one byte per group, 1 for a
 * table metric). It returns (firsts, groups): each group's first point (counted from
 * skip), and per group, in group-number order,
 *
 *   ("f" or "i", steps, times, values, whole, figures) for a group whose points are all
 *     floats or all ints (not a table): its columns as bytes, the Whole and Figures
 *     tuples of columnar.py; or
 *   (None, indexes): the positions of its points (int64 bytes), for the list path.
 *
 * One pass counts, one places each point, one per group folds: what the numpy path
 * computes in ~40 calls. columnar.py documents each figure; the tests compare both
 * paths on random batches.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#if !PY_LITTLE_ENDIAN
#error "columnar batches are little-endian: this build uses the numpy path"
#endif

#define NO_STEP INT64_MIN
#define STEPS_ALL 0
#define STEPS_NONE 1
#define STEPS_MIXED 2
#define STEPS_RANGE 3
#define POINT_FLOAT 0
#define POINT_INT 1

typedef struct {
    Py_buffer ids, types, steps, times, values, group_of, tables;
} Views;

static void
views_release(Views *v)
{
    Py_buffer *all[] = {&v->ids, &v->types, &v->steps, &v->times, &v->values,
                        &v->group_of, &v->tables};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (all[i]->obj != NULL) {
            PyBuffer_Release(all[i]);
        }
    }
}

/* numpy's sort order of floats: NaN above everything */
static int
float_gt(double a, double b)
{
    if (isnan(a)) {
        return !isnan(b);
    }
    return !isnan(b) && a > b;
}

static int
float_eq(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

static PyObject *
none_or_float(int present, double value)
{
    if (!present) {
        Py_RETURN_NONE;
    }
    return PyFloat_FromDouble(value);
}

/* a point's value as Python sees it: a float or an int */
static PyObject *
value_object(int is_float, int64_t bits)
{
    if (is_float) {
        double d;
        memcpy(&d, &bits, 8);
        return PyFloat_FromDouble(d);
    }
    return PyLong_FromLongLong(bits);
}

/* The Whole and Figures of one group, from its points in order (columnar._wholes). */
static PyObject *
fold_group(int is_float, Py_ssize_t k, const int64_t *steps, const double *times,
           const int64_t *bits)
{
    int64_t step_lo = steps[0], step_hi = steps[0], given_lo = INT64_MAX;
    int steps_up = 1, steps_range = 1, times_up = 1;
    double time_lo = times[0], time_hi = times[0];
    Py_ssize_t n_num = 0, first_num_at = -1, last_num_at = -1, top = 0, last_given = -1;
    double f_lo = 0, f_hi = 0;
    int64_t i_lo = bits[0], i_hi = bits[0];
    int64_t top_rank = 0;
    double top_time = 0, top_key = 0;
    for (Py_ssize_t j = 0; j < k; j++) {
        int64_t s = steps[j];
        double t = times[j];
        if (s < step_lo) step_lo = s;
        if (s > step_hi) step_hi = s;
        if (s != NO_STEP) {
            last_given = j;
            if (s < given_lo) given_lo = s;
        }
        if (j > 0) {
            int64_t prev = steps[j - 1];
            if (!(s >= prev)) steps_up = 0;
            if (s != (int64_t)((uint64_t)prev + 1u)) steps_range = 0; /* wraps, as numpy */
            if (!(t >= times[j - 1])) times_up = 0;
        }
        /* numpy's minimum and maximum carry a NaN */
        if (isnan(t) || isnan(time_lo)) time_lo = NAN;
        else if (t < time_lo) time_lo = t;
        if (isnan(t) || isnan(time_hi)) time_hi = NAN;
        else if (t > time_hi) time_hi = t;
        double key;
        if (is_float) {
            double v;
            memcpy(&v, &bits[j], 8);
            if (isnan(v)) {
                key = -INFINITY;
            } else {
                key = v;
                if (n_num == 0 || v < f_lo) f_lo = v;
                if (n_num == 0 || v > f_hi) f_hi = v;
                if (first_num_at < 0) first_num_at = j;
                last_num_at = j;
                n_num++;
            }
        } else {
            key = (double)bits[j];
            if (bits[j] < i_lo) i_lo = bits[j];
            if (bits[j] > i_hi) i_hi = bits[j];
        }
        /* the top point: highest step (none counts as 0), time, value; the earliest */
        int64_t rank = s == NO_STEP ? 0 : s;
        if (j == 0 || rank > top_rank ||
            (rank == top_rank && (float_gt(t, top_time) ||
                                  (float_eq(t, top_time) && key > top_key)))) {
            top = j;
            top_rank = rank;
            top_time = t;
            top_key = key;
        }
    }
    if (!is_float) {
        n_num = k;
        first_num_at = 0;
        last_num_at = k - 1;
    }
    int kind;
    PyObject *step_min, *step_max;
    int sorted = 0;
    if (step_lo != NO_STEP) {
        kind = steps_range ? STEPS_RANGE : STEPS_ALL;
        step_min = PyLong_FromLongLong(step_lo);
        step_max = PyLong_FromLongLong(step_hi);
        sorted = steps_up;
    } else if (step_hi == NO_STEP) {
        kind = STEPS_NONE;
        step_min = Py_NewRef(Py_None);
        step_max = Py_NewRef(Py_None);
    } else {
        kind = STEPS_MIXED;
        step_min = PyLong_FromLongLong(given_lo);
        step_max = PyLong_FromLongLong(step_hi);
    }
    double first_num = 0, last_num = 0;
    if (n_num) {
        if (is_float) {
            memcpy(&first_num, &bits[first_num_at], 8);
            memcpy(&last_num, &bits[last_num_at], 8);
        } else {
            first_num = (double)bits[0];
            last_num = (double)bits[k - 1];
        }
    }
    PyObject *low, *high;
    if (is_float) {
        low = none_or_float(n_num > 0, f_lo);
        high = none_or_float(n_num > 0, f_hi);
    } else {
        low = PyLong_FromLongLong(i_lo);
        high = PyLong_FromLongLong(i_hi);
    }
    PyObject *whole = Py_BuildValue(
        "(inNNNNNNOddO)", kind, n_num,
        is_float ? Py_XNewRef(low) : PyFloat_FromDouble((double)i_lo),
        is_float ? Py_XNewRef(high) : PyFloat_FromDouble((double)i_hi),
        none_or_float(n_num > 0, first_num), none_or_float(n_num > 0, last_num),
        step_min, step_max, sorted ? Py_True : Py_False, time_lo, time_hi,
        times_up ? Py_True : Py_False);
    PyObject *last_step;
    if (steps[k - 1] != NO_STEP) {
        last_step = PyLong_FromLongLong(steps[k - 1]);
    } else if (last_given >= 0) {
        last_step = PyLong_FromLongLong(steps[last_given]);
    } else {
        last_step = Py_NewRef(Py_None);
    }
    PyObject *figures = Py_BuildValue(
        "(NNdN(LdN)NN)", value_object(is_float, bits[0]), value_object(is_float, bits[k - 1]),
        times[k - 1], last_step, (long long)top_rank, times[top],
        value_object(is_float, bits[top]), low, high);
    if (whole == NULL || figures == NULL) {
        Py_XDECREF(whole);
        Py_XDECREF(figures);
        return NULL;
    }
    return Py_BuildValue("(NN)", whole, figures);
}

static PyObject *
split(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *objs[7];
    Py_ssize_t skip;
    if (!PyArg_ParseTuple(args, "OOOOOnOO:split", &objs[0], &objs[1], &objs[2], &objs[3],
                          &objs[4], &skip, &objs[5], &objs[6])) {
        return NULL;
    }
    Views v = {0};
    Py_buffer *views[] = {&v.ids, &v.types, &v.steps, &v.times, &v.values, &v.group_of,
                          &v.tables};
    for (int i = 0; i < 7; i++) {
        if (PyObject_GetBuffer(objs[i], views[i], PyBUF_C_CONTIGUOUS) < 0) {
            views_release(&v);
            return NULL;
        }
    }
    PyObject *result = NULL;
    Py_ssize_t *counts = NULL, *firsts = NULL, *fill = NULL, *at = NULL;
    uint8_t *kinds_seen = NULL;
    int64_t *out_steps = NULL, *out_bits = NULL;
    double *out_times = NULL;
    Py_ssize_t total = v.ids.len / 4;
    Py_ssize_t n = total - skip;
    Py_ssize_t n_groups = v.tables.len;
    int wide = v.group_of.itemsize == 4;
    Py_ssize_t n_ids = v.group_of.len / (wide ? 4 : 2);
    if (skip < 0 || n < 0 || v.types.len < total || v.steps.len < total * 8 ||
        v.times.len < total * 8 || v.values.len < total * 8 ||
        (v.group_of.itemsize != 2 && v.group_of.itemsize != 4)) {
        PyErr_SetString(PyExc_ValueError, "split: columns of different lengths");
        goto done;
    }
    const uint32_t *ids = (const uint32_t *)v.ids.buf + skip;
    const uint8_t *types = (const uint8_t *)v.types.buf + skip;
    const int64_t *steps = (const int64_t *)v.steps.buf + skip;
    const double *times = (const double *)v.times.buf + skip;
    const int64_t *bits = (const int64_t *)v.values.buf + skip;
    const uint8_t *tables = v.tables.buf;
    counts = PyMem_Calloc(n_groups + 1, sizeof(Py_ssize_t));
    firsts = PyMem_Calloc(n_groups + 1, sizeof(Py_ssize_t));
    fill = PyMem_Calloc(n_groups + 1, sizeof(Py_ssize_t));
    kinds_seen = PyMem_Calloc(n_groups + 1, 1);
    at = PyMem_Malloc((n + 1) * sizeof(Py_ssize_t));
    out_steps = PyMem_Malloc((n + 1) * 8);
    out_times = PyMem_Malloc((n + 1) * 8);
    out_bits = PyMem_Malloc((n + 1) * 8);
    if (!counts || !firsts || !fill || !kinds_seen || !at || !out_steps || !out_times ||
        !out_bits) {
        PyErr_NoMemory();
        goto done;
    }
    /* each point's group; counts, first points and the types each group holds */
    for (Py_ssize_t i = 0; i < n; i++) {
        uint32_t id = ids[i];
        if ((Py_ssize_t)id >= n_ids) {
            PyErr_Format(PyExc_ValueError, "split: metric id %u has no group", id);
            goto done;
        }
        Py_ssize_t g = wide ? ((const uint32_t *)v.group_of.buf)[id]
                            : ((const uint16_t *)v.group_of.buf)[id];
        if (g >= n_groups) {
            PyErr_Format(PyExc_ValueError, "split: group %zd of %zd", g, n_groups);
            goto done;
        }
        if (counts[g]++ == 0) {
            firsts[g] = i;
        }
        kinds_seen[g] |= types[i] == POINT_FLOAT ? 1 : types[i] == POINT_INT ? 2 : 4;
    }
    /* each group's points, in order, one after the other */
    Py_ssize_t start = 0;
    for (Py_ssize_t g = 0; g < n_groups; g++) {
        fill[g] = start;
        start += counts[g];
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        uint32_t id = ids[i];
        Py_ssize_t g = wide ? ((const uint32_t *)v.group_of.buf)[id]
                            : ((const uint16_t *)v.group_of.buf)[id];
        Py_ssize_t to = fill[g]++;
        at[to] = i;
        out_steps[to] = steps[i];
        out_times[to] = times[i];
        out_bits[to] = bits[i];
    }
    PyObject *first_list = PyList_New(n_groups);
    PyObject *groups = PyList_New(n_groups);
    result = Py_BuildValue("(NN)", first_list, groups);
    if (result == NULL) {
        goto done;
    }
    start = 0;
    for (Py_ssize_t g = 0; g < n_groups; g++) {
        Py_ssize_t k = counts[g];
        PyObject *first = PyLong_FromSsize_t(firsts[g]);
        if (first == NULL) {
            Py_CLEAR(result);
            goto done;
        }
        PyList_SET_ITEM(first_list, g, first);
        int seen = kinds_seen[g];
        PyObject *item;
        if (k > 0 && !tables[g] && (seen == 1 || seen == 2)) {
            int is_float = seen == 1;
            PyObject *folded = fold_group(is_float, k, out_steps + start, out_times + start,
                                          out_bits + start);
            item = folded == NULL ? NULL : Py_BuildValue(
                "(sy#y#y#N)", is_float ? "f" : "i",
                (const char *)(out_steps + start), k * 8,
                (const char *)(out_times + start), k * 8,
                (const char *)(out_bits + start), k * 8, folded);
        } else {
            int64_t *positions = PyMem_Malloc((k + 1) * 8);
            if (positions == NULL) {
                PyErr_NoMemory();
                item = NULL;
            } else {
                for (Py_ssize_t j = 0; j < k; j++) {
                    positions[j] = (int64_t)at[start + j];
                }
                item = Py_BuildValue("(Oy#)", Py_None, (const char *)positions, k * 8);
                PyMem_Free(positions);
            }
        }
        if (item == NULL) {
            Py_CLEAR(result);
            goto done;
        }
        PyList_SET_ITEM(groups, g, item);
        start += k;
    }
done:
    PyMem_Free(counts);
    PyMem_Free(firsts);
    PyMem_Free(fill);
    PyMem_Free(kinds_seen);
    PyMem_Free(at);
    PyMem_Free(out_steps);
    PyMem_Free(out_times);
    PyMem_Free(out_bits);
    views_release(&v);
    return result;
}

static PyMethodDef columnar_functions[] = {
    {"split", split, METH_VARARGS,
     "split(ids, types, steps, times, values, skip, group_of, tables) -> (firsts, groups): "
     "see columnar.py"},
    {NULL},
};

static struct PyModuleDef columnar_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "runtrack.store.sql._columnar",
    .m_doc = "The C twin of columnar.split's numpy path (optional).",
    .m_size = -1,
    .m_methods = columnar_functions,
};

PyMODINIT_FUNC
PyInit__columnar(void)
{
    return PyModule_Create(&columnar_module);
}
