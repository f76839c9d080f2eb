/* The exact int8 scan of pipeline/index/int8_scan.py.
 *
 * Rows are stored as int8 codes with one scale per row; a query as uint8 codes (int8 + 128)
 * with one scale. For every row the kernel computes the approximate score
 *     a = mult * sq * sx[i] * (q8 . x8[i] - 128 * rowsum[i]) - off[i]
 * and a rigorous error bound
 *     b = bq * res[i] + be * nrm[i] + slack
 * (bq, be: per query; res, nrm: per row, see int8_scan.py for why |exact - a| <= b).
 * The k-th largest lower bound a - b is a floor under the k-th exact score, so every row of
 * the exact top k has a + b >= that floor: those rows are the candidates, rescored here from
 * the float32 rows (top k by score, ties to the smaller id). Only the integer dot products
 * touch the int8 codes: a quarter of the bytes of a float32 scan, which is what a
 * memory-bound scan at batch size one pays for.
 *
 * Compiled on first use with the machine's own instruction set (-O3 -march=native; the
 * four-row loop uses AVX-512 VNNI where the compiler targets it, the plain loop elsewhere;
 * a group of queries is multiplied with AMX tiles where the CPU has them and Linux grants
 * them: one instruction per 16 rows x 16 queries x 64 dimensions, exact integer sums too).
 */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__AMX_TILE__) && defined(__AMX_INT8__) && defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#define HAVE_AMX 1
#endif

typedef struct {
    const int8_t *x;       /* m x d codes */
    const int32_t *rowsum; /* sum of each row's codes */
    const float *sx;       /* scale of each row */
    const float *res;      /* |x - sx * x8| per row, rounded up */
    const float *nrm;      /* |sx * x8| per row, rounded up */
    const float *off;      /* per-row offset (l2: |x|^2), or NULL */
    const float *v;        /* m x d float32 rows: the exact rescoring */
    const int64_t *ids;    /* m ids: the tie-break and the answer */
    int64_t m;
    int64_t d;
    double mult;            /* 1 (ip) or 2 (l2) */
    double slack_per_qnorm; /* the slack: this times |q| ... */
    double slack_const;     /* ... plus this ... */
    double norm_max;        /* ... plus a's own rounding, relative to |q| norm_max */
    /* the 4-bit first pass of a single query (NULL x4: none): codes + 8 as nibbles, for each
     * block of 128 dimensions 64 bytes, byte j holding dimension j (low nibble) and j + 64 */
    const uint8_t *x4;
    const float *sx4, *res4, *nrm4; /* its scale, residual and norm per row, as above */
    double norm_max4;
    int64_t *stats4; /* 4-bit passes tried, overflowed, skipped (shared, updated atomically) */
} rows_t;

typedef struct {
    const uint8_t *q8;    /* codes (+128) */
    float sq, bq, be, sl; /* scale; the bound is bq res + be nrm + sl */
    const int8_t *q8s;    /* the signed codes (4-bit pass) and their sum */
    int32_t qsum;
    float sl4;            /* the 4-bit pass's slack */
} query_t;


#ifdef HAVE_AMX
/* AMX (Sapphire Rapids and later) for a group of queries: one TDPBSSD multiplies 16 rows by
 * 16 queries over 64 dimensions, 16 times the work of a VNNI instruction, with no horizontal
 * sums. The integer dot products are exact either way, so the bound is unchanged. Linux gives
 * a process the tile registers only when asked (arch_prctl); refused -> the VNNI loop. */
static pthread_once_t amx_once = PTHREAD_ONCE_INIT;
static int amx_ok = 0, amx_on = 1;
static void amx_ask(void) {
    amx_ok = syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */,
                     18 /* XFEATURE_XTILEDATA */) == 0;
}
static int amx_ready(void) {
    pthread_once(&amx_once, amx_ask);
    return amx_ok && __atomic_load_n(&amx_on, __ATOMIC_RELAXED);
}
#endif

/* Whether batches use AMX; want 0 / 1 turns it off / on (where the CPU and the OS allow it),
 * -1 only asks. */
int verikg_int8_amx(int want) {
#ifdef HAVE_AMX
    if (want >= 0) __atomic_store_n(&amx_on, want ? 1 : 0, __ATOMIC_RELAXED);
    return amx_ready();
#else
    (void)want;
    return 0;
#endif
}

#ifdef HAVE_AMX

typedef struct {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tilecfg_t;

/* tiles 0-3: dot products of four 16-row blocks x 16 queries (int32); 4, 5: row blocks
 * (16 rows x 64 codes); 6: 64 dimensions of the 16 queries, packed four codes per query */
static void amx_config(void) {
    tilecfg_t c;
    memset(&c, 0, sizeof c);
    c.palette = 1;
    for (int t = 0; t < 7; t++) {
        c.colsb[t] = 64;
        c.rows[t] = 16;
    }
    _tile_loadconfig(&c);
}

/* The queries' signed codes in the layout TDPBSSD reads its second tile in: for each block
 * of 64 dimensions, 16 lines of 64 bytes, line l holding dimensions 4l..4l+3 of queries 0..15
 * (zeros past nqs). q8 holds codes + 128: flipping the top bit gives the signed code. */
static void amx_pack(const query_t *qs, int64_t nqs, int64_t d, int8_t *packed) {
    memset(packed, 0, (size_t)(d / 64) * 1024);
    for (int64_t n = 0; n < nqs; n++)
        for (int64_t j = 0; j < d; j++)
            packed[(j / 64) * 1024 + ((j % 64) / 4) * 64 + n * 4 + j % 4] =
                (int8_t)(qs[n].q8[j] ^ 0x80);
}

/* C (16 rows x 16 queries, int32) -> each query's lower-bound array, rows i..i+15 */
static void amx_spill(const int32_t *c, int64_t nqs, float *lo, int64_t m, int64_t i) {
    const __m512i col = _mm512_setr_epi32(0, 16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176,
                                          192, 208, 224, 240);
    for (int64_t n = 0; n < nqs; n++)
        _mm512_storeu_ps(lo + n * m + i, _mm512_cvtepi32_ps(
            _mm512_i32gather_epi32(col, c + n, 4)));
}

/* Integer dot products of rows [r0, r1) with nqs <= 16 queries into lo + n * m (as floats,
 * exact below 2^24); rows past the last full block of 16: the caller's loop. Returns the
 * first row not done. */
static int64_t amx_dots(const rows_t *r, const int8_t *packed, int64_t nqs, int64_t r0,
                        int64_t r1, float *lo, int64_t m) {
    const int64_t d = r->d;
    int32_t c[4][256] __attribute__((aligned(64)));
    int64_t i = r0;
    for (; i + 64 <= r1; i += 64) {
        const int8_t *x = r->x + i * d;
        _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);
        for (int64_t j = 0; j < d; j += 64) {
            _tile_loadd(6, packed + (j / 64) * 1024, 64);
            _tile_loadd(4, x + j, d);
            _tile_dpbssd(0, 4, 6);
            _tile_loadd(5, x + 16 * d + j, d);
            _tile_dpbssd(1, 5, 6);
            _tile_loadd(4, x + 32 * d + j, d);
            _tile_dpbssd(2, 4, 6);
            _tile_loadd(5, x + 48 * d + j, d);
            _tile_dpbssd(3, 5, 6);
        }
        _tile_stored(0, c[0], 64); _tile_stored(1, c[1], 64);
        _tile_stored(2, c[2], 64); _tile_stored(3, c[3], 64);
        for (int b = 0; b < 4; b++) amx_spill(c[b], nqs, lo, m, i + 16 * b);
    }
    for (; i + 16 <= r1; i += 16) {
        _tile_zero(0);
        for (int64_t j = 0; j < d; j += 64) {
            _tile_loadd(6, packed + (j / 64) * 1024, 64);
            _tile_loadd(4, r->x + i * d + j, d);
            _tile_dpbssd(0, 4, 6);
        }
        _tile_stored(0, c[0], 64);
        amx_spill(c[0], nqs, lo, m, i);
    }
    return i;
}
#endif

#if defined(__AVX512VNNI__) && defined(__AVX512BW__)
/* the sums of four accumulators at once: halve each, then two rounds of pairwise adds */
static inline __m128i hsum4(__m512i a0, __m512i a1, __m512i a2, __m512i a3) {
    __m256i s0 = _mm256_add_epi32(_mm512_castsi512_si256(a0), _mm512_extracti64x4_epi64(a0, 1));
    __m256i s1 = _mm256_add_epi32(_mm512_castsi512_si256(a1), _mm512_extracti64x4_epi64(a1, 1));
    __m256i s2 = _mm256_add_epi32(_mm512_castsi512_si256(a2), _mm512_extracti64x4_epi64(a2, 1));
    __m256i s3 = _mm256_add_epi32(_mm512_castsi512_si256(a3), _mm512_extracti64x4_epi64(a3, 1));
    __m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(s0, s1), _mm256_hadd_epi32(s2, s3));
    return _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}
#endif

/* Lower bounds a - b of rows [r0, r1) for one query, into lo. */
static void lower_bounds_from(const rows_t *r, const query_t *q, int64_t r0, int64_t r1,
                              float *lo, int64_t done) {
    const int64_t d = r->d;
    int64_t i = done; /* rows [r0, done): dot products already in lo (AMX) */
#if defined(__AVX512VNNI__) && defined(__AVX512BW__)
    if (d % 64 == 0) { /* four rows at a time, one VNNI accumulator each */
        for (; i + 4 <= r1; i += 4) {
            const int8_t *x0 = r->x + i * d;
            for (int64_t j = 0; j < 4 * d; j += 64) /* 16 rows ahead: keep loads streaming */
                _mm_prefetch((const char *)(x0 + 16 * d + j), _MM_HINT_T0);
            __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
            for (int64_t j = 0; j < d; j += 64) {
                __m512i qv = _mm512_loadu_si512(q->q8 + j);
                a0 = _mm512_dpbusd_epi32(a0, qv, _mm512_loadu_si512(x0 + j));
                a1 = _mm512_dpbusd_epi32(a1, qv, _mm512_loadu_si512(x0 + d + j));
                a2 = _mm512_dpbusd_epi32(a2, qv, _mm512_loadu_si512(x0 + 2 * d + j));
                a3 = _mm512_dpbusd_epi32(a3, qv, _mm512_loadu_si512(x0 + 3 * d + j));
            }
            __m128i dots = hsum4(a0, a1, a2, a3);
            dots = _mm_sub_epi32(dots, _mm_slli_epi32(
                _mm_loadu_si128((const __m128i *)(r->rowsum + i)), 7));
            _mm_storeu_ps(lo + i, _mm_cvtepi32_ps(dots));
        }
    }
#endif
    for (; i < r1; i++) {
        const int8_t *xi = r->x + i * d;
        int32_t acc = 0;
        for (int64_t j = 0; j < d; j++) acc += (int32_t)q->q8[j] * (int32_t)xi[j];
        lo[i] = (float)(acc - 128 * r->rowsum[i]);
    }
    /* scale, offset and bound: plain loops, vectorised */
    const float ms = (float)r->mult * q->sq, bq = q->bq, be = q->be, sl = q->sl;
    const float *sx = r->sx, *res = r->res, *nrm = r->nrm, *off = r->off;
    if (off)
        for (int64_t t = r0; t < r1; t++)
            lo[t] = ms * sx[t] * lo[t] - off[t] - (bq * res[t] + be * nrm[t] + sl);
    else
        for (int64_t t = r0; t < r1; t++)
            lo[t] = ms * sx[t] * lo[t] - (bq * res[t] + be * nrm[t] + sl);
}

static void lower_bounds(const rows_t *r, const query_t *q, int64_t r0, int64_t r1,
                         float *lo) {
    lower_bounds_from(r, q, r0, r1, lo, r0);
}

/* a min-heap of the k largest lower bounds seen */
static void heap_push(float *h, int *n, int k, float v) {
    if (*n < k) {
        int i = (*n)++;
        h[i] = v;
        while (i > 0) {
            int p = (i - 1) / 2;
            if (h[p] <= h[i]) break;
            float t = h[p]; h[p] = h[i]; h[i] = t; i = p;
        }
    } else if (v > h[0]) {
        int i = 0;
        h[0] = v;
        for (;;) {
            int l = 2 * i + 1, rr = l + 1, s = i;
            if (l < k && h[l] < h[s]) s = l;
            if (rr < k && h[rr] < h[s]) s = rr;
            if (s == i) break;
            float t = h[s]; h[s] = h[i]; h[i] = t; i = s;
        }
    }
}

/* the largest of v[c..e), e - c <= 64 */
static inline float block_max(const float *v, int64_t c, int64_t e) {
    float top = -INFINITY;
#if defined(__AVX512F__)
    if (e - c == 64) {
        __m512 t4 = _mm512_max_ps(_mm512_max_ps(_mm512_loadu_ps(v + c), _mm512_loadu_ps(v + c + 16)),
                                  _mm512_max_ps(_mm512_loadu_ps(v + c + 32),
                                                _mm512_loadu_ps(v + c + 48)));
        return _mm512_reduce_max_ps(t4);
    }
#endif
    for (int64_t i = c; i < e; i++) top = v[i] > top ? v[i] : top;
    return top;
}

/* Rows i in [0, m) with v[i] + (wq res[i] + we nrm[i] + sl) >= floor_: their numbers into out
 * (the first cap of them); returns how many there are (may exceed cap). */
static int64_t collect(const float *v, const float *res, const float *nrm, float wq, float we,
                       float sl, float floor_, int64_t m, int32_t *out, int64_t cap) {
    int64_t c = 0, i = 0;
#if defined(__AVX512F__)
    {   /* sixteen rows a step: compare, then compress the passing row numbers */
        const __m512 vb = _mm512_set1_ps(wq), ve = _mm512_set1_ps(we);
        const __m512 vs = _mm512_set1_ps(sl), vf = _mm512_set1_ps(floor_);
        const __m512i step = _mm512_set1_epi32(16);
        __m512i idx = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        for (; i + 16 <= m && i + 16 <= (int64_t)0x7fffffff; i += 16) {
            __m512 b = _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(vb, _mm512_loadu_ps(res + i)),
                                                   _mm512_mul_ps(ve, _mm512_loadu_ps(nrm + i))),
                                     vs);
            __mmask16 pass = _mm512_cmp_ps_mask(_mm512_add_ps(_mm512_loadu_ps(v + i), b), vf,
                                                _CMP_GE_OQ);
            if (pass) {
                int got = __builtin_popcount((unsigned)pass);
                if (c + got <= cap) _mm512_mask_compressstoreu_epi32(out + c, pass, idx);
                c += got;
            }
            idx = _mm512_add_epi32(idx, step);
        }
    }
#endif
    for (; i < m; i++)
        if (v[i] + (wq * res[i] + we * nrm[i] + sl) >= floor_) {
            if (c < cap) out[c] = (int32_t)i;
            c++;
        }
    return c;
}

/* The candidates of one query from its lower bounds: rows whose upper bound (lower bound plus
 * twice the bound) reaches the k-th largest lower bound. Returns how many (may exceed cap:
 * only the first cap are written). */
static int64_t candidates(const rows_t *r, const query_t *q, int k, const float *lo,
                          float *heap, int32_t *out, int64_t cap) {
    const int64_t m = r->m;
    float floor_ = -INFINITY;
    if (m > k) {
        int n = 0;
        for (int64_t c = 0; c < m; c += 64) { /* the heap sees blocks that could enter it */
            int64_t e = c + 64 < m ? c + 64 : m;
            float top = block_max(lo, c, e);
            if (n == k && !(top > heap[0])) continue;
            for (int64_t i = c; i < e; i++) heap_push(heap, &n, k, lo[i]);
        }
        floor_ = heap[0];
    }
    /* the upper bound: the lower bound plus twice the bound */
    return collect(lo, r->res, r->nrm, 2.0f * q->bq, 2.0f * q->be, 2.0f * q->sl, floor_, m, out,
                   cap);
}

/* The query's codes (+128), scale and bound weights; see int8_scan.py for the bound. Sums in
 * double, results rounded up to float: the bound stays a bound. */
static void quantize_query(const rows_t *r, const float *qf, uint8_t *q8, int8_t *q8s,
                           query_t *q) {
    const int64_t d = r->d;
    double peak = 0.0, qq = 0.0, ee = 0.0;
    for (int64_t j = 0; j < d; j++) {
        double v = fabs((double)qf[j]);
        if (v > peak) peak = v;
        qq += (double)qf[j] * (double)qf[j];
    }
    float scale = peak > 0.0 ? (float)(peak / 127.0) : 1.0f;
    if (!(scale > 0.0f)) scale = 1.0f; /* a peak below float's range */
    for (int64_t j = 0; j < d; j++) {
        double c = nearbyint((double)qf[j] / (double)scale);
        if (c > 127.0) c = 127.0;
        if (c < -127.0) c = -127.0;
        q8[j] = (uint8_t)(int)(c + 128.0);
        double e = (double)qf[j] - c * (double)scale;
        ee += e * e;
    }
    double qnorm = sqrt(qq);
    q->q8 = q8;
    q->sq = scale;
    q->bq = nextafterf((float)(r->mult * qnorm), INFINITY);
    q->be = nextafterf((float)(r->mult * sqrt(ee)), INFINITY);
    q->sl = nextafterf((float)(r->slack_per_qnorm * qnorm + r->slack_const
                               + r->mult * 8.0 * 5.960464477539063e-08 * qnorm * r->norm_max),
                       INFINITY);
    int32_t sum = 0;
    for (int64_t j = 0; j < d; j++) {
        q8s[j] = (int8_t)(q8[j] ^ 0x80);
        sum += q8s[j];
    }
    q->q8s = q8s;
    q->qsum = sum;
    q->sl4 = nextafterf((float)(r->slack_per_qnorm * qnorm + r->slack_const
                                + r->mult * 8.0 * 5.960464477539063e-08 * qnorm * r->norm_max4),
                        INFINITY);
}

/* The exact score of row i, as the float32 scans define it (sums in double, rounded once). */
static float exact_score(const rows_t *r, const float *qf, double qq, int64_t i) {
    const float *v = r->v + i * r->d;
    const int64_t d = r->d, full = d - d % 8;
    double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0}; /* eight running sums: a vector register */
    for (int64_t j = 0; j < full; j += 8)
        for (int l = 0; l < 8; l++) lane[l] += (double)qf[j + l] * (double)v[j + l];
    double acc = ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
    for (int64_t j = full; j < d; j++) acc += (double)qf[j] * (double)v[j];
    return r->off ? (float)(2.0 * acc - (double)r->off[i] - qq) : (float)acc;
}

/* Insert (s, id) into the top list ts/ti of n <= k entries, kept by (score desc, id asc). */
static void top_insert(float *ts, int64_t *ti, int *n, int k, float s, int64_t id) {
    if (*n == k && (s < ts[k - 1] || (s == ts[k - 1] && id > ti[k - 1]))) return;
    int pos = *n < k ? (*n)++ : k - 1;
    while (pos > 0 && (ts[pos - 1] < s || (ts[pos - 1] == s && ti[pos - 1] > id))) {
        ts[pos] = ts[pos - 1];
        ti[pos] = ti[pos - 1];
        pos--;
    }
    ts[pos] = s;
    ti[pos] = id;
}

/* The exact top k of one query: its candidates rescored (count <= cap), or every row. Pads
 * with id -1 and score -inf. */
static void rescore(const rows_t *r, const float *qf, int k, const int32_t *cand, int64_t count,
                    int64_t cap, float *ts, int64_t *ti) {
    double qq = 0.0;
    if (r->off)
        for (int64_t j = 0; j < r->d; j++) qq += (double)qf[j] * (double)qf[j];
    int n = 0;
    if (count <= cap)
        for (int64_t c = 0; c < count; c++) {
#if defined(__x86_64__) || defined(__i386__)
            if (c + 4 < count) { /* candidates are scattered: fetch a later row's lines now */
                const char *ahead = (const char *)(r->v + cand[c + 4] * r->d);
                for (int64_t b = 0; b < r->d * 4; b += 64) _mm_prefetch(ahead + b, _MM_HINT_T0);
            }
#endif
            top_insert(ts, ti, &n, k, exact_score(r, qf, qq, cand[c]), r->ids[cand[c]]);
        }
    else
        for (int64_t i = 0; i < r->m; i++)
            top_insert(ts, ti, &n, k, exact_score(r, qf, qq, i), r->ids[i]);
    for (int t = n; t < k; t++) {
        ts[t] = -INFINITY;
        ti[t] = -1;
    }
}

/* Candidates and rescoring of one query; returns how many candidates it had. More than the
 * cap (a dense neighbourhood: a big cluster around the query) takes a second pass into a
 * buffer of the exact size; only if that memory is refused is every row rescored. */
static int64_t finish_query(const rows_t *r, const query_t *q, const float *qf, int k,
                            const float *lo, float *heap, int32_t *cand, int64_t cap,
                            float *ts, int64_t *ti) {
    int64_t c = candidates(r, q, k, lo, heap, cand, cap);
    if (c <= cap) {
        rescore(r, qf, k, cand, c, cap, ts, ti);
        return c;
    }
    int32_t *all = malloc(sizeof(int32_t) * (size_t)c);
    if (all) {
        candidates(r, q, k, lo, heap, all, c);
        rescore(r, qf, k, all, c, c, ts, ti);
        free(all);
    } else {
        rescore(r, qf, k, cand, c, cap, ts, ti); /* every row */
    }
    return c;
}


/* ---- the 4-bit first pass of a single query ----
 * At batch size one the scan is bound by memory bandwidth (a partition bigger than the
 * core's L2 streams from L3 or DRAM): 4-bit codes halve the bytes again. Their bound is ~8x
 * looser than int8's, so they only thin the rows: the candidates of the 4-bit pass (a few
 * percent) get the int8 bound, and the survivors of that (a few dozen) the exact rescoring.
 * Every floor is a k-th largest lower bound of some k rows, so the proof above carries over:
 * a row of the exact top k survives each stage. */

int verikg_int8_int4_fast(void) {
#if defined(__AVX512VNNI__) && defined(__AVX512BW__)
    return 1;
#else
    return 0;
#endif
}

#if defined(__AVX512VNNI__) && defined(__AVX512BW__)
#define NB_HELD 8 /* blocks of 128 dimensions whose query codes are held in registers */

/* Approximate scores of rows [i, r1), four at a time, for nb blocks of 128 dimensions;
 * returns the first row left (fewer than four). Inlined with nb a constant up to NB_HELD the
 * loops unroll and the query's codes are loaded once, into registers (measured on 384
 * dimensions: 6.5 -> 4.4 ns a row from L2); wider rows read them from memory (nb_held = 0).
 * Low nibbles are multiplied as stored; high nibbles in place, i.e. times 16 (no shift), into
 * accumulators of their own divided by 16 at the end (exactly: every term is a multiple of
 * 16, and |sum| < 2^31 up to d = 2^20). */
static inline __attribute__((always_inline)) int64_t
approx4_rows(const rows_t *r, const query_t *q, int64_t i, int64_t r1, float *a,
             const int64_t nb, const int nb_held) {
    const int64_t half = nb * 64;
    const __m512i low = _mm512_set1_epi8(0x0f), high = _mm512_set1_epi8((char)0xf0);
    const __m128i bias = _mm_set1_epi32(8 * q->qsum); /* codes are stored + 8 */
    __m512i ql[NB_HELD], qh[NB_HELD];
    for (int64_t b = 0; b < nb_held; b++) {
        ql[b] = _mm512_loadu_si512(q->q8s + 128 * b);
        qh[b] = _mm512_loadu_si512(q->q8s + 128 * b + 64);
    }
    for (; i + 4 <= r1; i += 4) {
        const uint8_t *x0 = r->x4 + i * half;
        for (int64_t j = 0; j < 4 * half; j += 64) /* 32 rows ahead */
            _mm_prefetch((const char *)(x0 + 32 * half + j), _MM_HINT_T0);
        __m512i acc[4];
        for (int row = 0; row < 4; row++) {
            const uint8_t *xr = x0 + row * half;
            __m512i lo4 = _mm512_setzero_si512(), hi4 = lo4;
            for (int64_t b = 0; b < nb; b++) {
                const __m512i v = _mm512_loadu_si512(xr + 64 * b);
                const __m512i cl = nb_held ? ql[b] : _mm512_loadu_si512(q->q8s + 128 * b);
                const __m512i ch = nb_held ? qh[b] : _mm512_loadu_si512(q->q8s + 128 * b + 64);
                lo4 = _mm512_dpbusd_epi32(lo4, _mm512_and_si512(v, low), cl);
                hi4 = _mm512_dpbusd_epi32(hi4, _mm512_and_si512(v, high), ch);
            }
            acc[row] = _mm512_add_epi32(lo4, _mm512_srai_epi32(hi4, 4));
        }
        _mm_storeu_ps(a + i, _mm_cvtepi32_ps(_mm_sub_epi32(hsum4(acc[0], acc[1], acc[2], acc[3]),
                                                           bias)));
    }
    return i;
}
#endif

/* approximate scores a (no bound) of rows [r0, r1) from their 4-bit codes, into a */
static void approx4(const rows_t *r, const query_t *q, int64_t r0, int64_t r1, float *a) {
    const int64_t d = r->d, half = d / 2;
    int64_t i = r0;
#if defined(__AVX512VNNI__) && defined(__AVX512BW__)
    if (d % 128 == 0) {
        switch (d / 128) { /* the common widths with the query in registers */
#define WIDTH(nb) case nb: i = approx4_rows(r, q, i, r1, a, nb, nb); break;
        WIDTH(1) WIDTH(2) WIDTH(3) WIDTH(4) WIDTH(5) WIDTH(6) WIDTH(7) WIDTH(8)
#undef WIDTH
        default: i = approx4_rows(r, q, i, r1, a, d / 128, 0);
        }
    }
#endif
    for (; i < r1; i++) {
        const uint8_t *xi = r->x4 + i * half;
        int32_t acc = 0;
        for (int64_t j = 0; j < d; j++) {
            const uint8_t byte = xi[(j / 128) * 64 + (j % 64)];
            const int32_t c = (int32_t)((j % 128) < 64 ? (byte & 15) : (byte >> 4)) - 8;
            acc += c * (int32_t)q->q8s[j];
        }
        a[i] = (float)acc;
    }
    const float ms = (float)r->mult * q->sq;
    const float *sx4 = r->sx4, *off = r->off;
    if (off)
        for (int64_t t = r0; t < r1; t++) a[t] = ms * sx4[t] * a[t] - off[t];
    else
        for (int64_t t = r0; t < r1; t++) a[t] = ms * sx4[t] * a[t];
}

/* The 4-bit approximate scores of every row for one query, into a (m floats): what the pass
 * ranks rows by, for tests and diagnostics. Returns -1 when the rows have no 4-bit codes (or
 * memory was refused). */
int verikg_int8_scores4(const rows_t *r, const float *qf, float *a) {
    uint8_t *q8 = malloc((size_t)r->d + 1);
    int8_t *q8s = malloc((size_t)r->d + 1);
    int ok = r->x4 != NULL && q8 && q8s;
    if (ok) {
        query_t q;
        quantize_query(r, qf, q8, q8s, &q);
        approx4(r, &q, 0, r->m, a);
    }
    free(q8);
    free(q8s);
    return ok ? 0 : -1;
}

/* the int8 lower bound a - b of one row, as lower_bounds computes it */
static float lower_bound_row(const rows_t *r, const query_t *q, int64_t i) {
    const int64_t d = r->d;
    const int8_t *xi = r->x + i * d;
    int32_t dot = 0;
#if defined(__AVX512VNNI__) && defined(__AVX512BW__)
    if (d % 64 == 0) {
        __m512i acc = _mm512_setzero_si512();
        for (int64_t j = 0; j < d; j += 64)
            acc = _mm512_dpbusd_epi32(acc, _mm512_loadu_si512(q->q8 + j),
                                      _mm512_loadu_si512(xi + j));
        dot = _mm512_reduce_add_epi32(acc);
    } else
#endif
        for (int64_t j = 0; j < d; j++) dot += (int32_t)q->q8[j] * (int32_t)xi[j];
    const float v = (float)(dot - 128 * r->rowsum[i]);
    const float ms = (float)r->mult * q->sq;
    const float b = q->bq * r->res[i] + q->be * r->nrm[i] + q->sl;
    return r->off ? ms * r->sx[i] * v - r->off[i] - b : ms * r->sx[i] * v - b;
}

/* a min-heap of the k largest values seen, with their row numbers */
static void heap_push_row(float *h, int32_t *hr, int *n, int k, float v, int32_t row) {
    int i;
    if (*n < k) {
        i = (*n)++;
        h[i] = v;
        hr[i] = row;
        while (i > 0) {
            int p = (i - 1) / 2;
            if (h[p] <= h[i]) break;
            float t = h[p]; h[p] = h[i]; h[i] = t;
            int32_t u = hr[p]; hr[p] = hr[i]; hr[i] = u;
            i = p;
        }
    } else if (v > h[0]) {
        i = 0;
        h[0] = v;
        hr[0] = row;
        for (;;) {
            int l = 2 * i + 1, rr = l + 1, s = i;
            if (l < k && h[l] < h[s]) s = l;
            if (rr < k && h[rr] < h[s]) s = rr;
            if (s == i) break;
            float t = h[s]; h[s] = h[i]; h[i] = t;
            int32_t u = hr[s]; hr[s] = hr[i]; hr[i] = u;
            i = s;
        }
    }
}

/* Whether a single query takes the 4-bit pass. Where most of its candidates overflow (rows
 * crowded around the queries, e.g. a partition that is one cluster: the looser 4-bit bound
 * then keeps half the rows) the pass is wasted work before the int8 pass; after 8 tries, a
 * set of rows whose passes mostly overflowed skips it but for one query in 32, which notices
 * a changed workload. The counts halve every 64 tries: recent queries weigh most. */
static int int4_pays(int64_t *st) {
    if (!st) return 1;
    int64_t tried = __atomic_load_n(&st[0], __ATOMIC_RELAXED);
    int64_t over = __atomic_load_n(&st[1], __ATOMIC_RELAXED);
    if (tried < 8 || 2 * over <= tried) return 1;
    return __atomic_fetch_add(&st[2], 1, __ATOMIC_RELAXED) % 32 == 0;
}

static void int4_tried(int64_t *st, int overflowed) {
    if (!st) return;
    int64_t tried = __atomic_add_fetch(&st[0], 1, __ATOMIC_RELAXED);
    if (overflowed) __atomic_add_fetch(&st[1], 1, __ATOMIC_RELAXED);
    if (tried >= 64) { /* racy halving: the counts are a hint, never a correctness matter */
        __atomic_store_n(&st[0], tried / 2, __ATOMIC_RELAXED);
        __atomic_store_n(&st[1], __atomic_load_n(&st[1], __ATOMIC_RELAXED) / 2,
                         __ATOMIC_RELAXED);
    }
}

/* One thread's share of a single query's 4-bit pass. */
typedef struct {
    float *heap;    /* its k best rows by approximate score (a min-heap) ... */
    int32_t *rows;  /* ... and their row numbers */
    int n;
    int32_t *mine;  /* the chunks it scored */
    int64_t nmine;
    int32_t *cand;  /* its 4-bit candidates (cap slots) ... */
    float *lo;      /* ... and their int8 lower bounds */
    int64_t count;
    float *scratch; /* k floats: the floor's heap */
    float floor_;   /* the floor it collected candidates with */
} share_t;

/* A thread's own run of chunks, on a cache line of its own: taking a chunk from it does not
 * disturb the other threads' caches until they come to take what is left of it. */
typedef struct {
    int64_t next, end;
    char pad[48];
} range_t;

/* What the threads of one single query share. Its rows are cut into chunks of SPLIT_ROWS,
 * dealt out as one run per thread; a thread takes from its own run first, then from the
 * others' until every chunk is taken, so one that starts late takes less. In the 4-bit pass
 * the threads wait for each other once (for chunks still in hand), between the scores and
 * the collection of candidates, which each thread does on the chunks it scored. */
typedef struct {
    int64_t chunks;
    range_t *ranges; /* one per thread */
    int64_t done;    /* chunks scored (each thread adds its count once) */
    int overflow;    /* a thread's 4-bit candidates overflowed its slots */
    share_t *shares;
    int threads;
} split_t;

#define SPLIT_ROWS 512 /* rows a thread takes at a time from a single query's scan */

/* Deals the chunks out afresh: thread t's run is [t chunks / T, (t + 1) chunks / T). */
static void deal(split_t *sp) {
    for (int t = 0; t < sp->threads; t++) {
        sp->ranges[t].next = sp->chunks * t / sp->threads;
        sp->ranges[t].end = sp->chunks * (t + 1) / sp->threads;
    }
}

/* The next chunk for the thread at `home`, or -1 when all are taken. */
static int64_t claim(split_t *sp, int home) {
    for (int n = 0; n < sp->threads; n++) {
        range_t *run = &sp->ranges[(home + n) % sp->threads];
        if (__atomic_load_n(&run->next, __ATOMIC_RELAXED) >= run->end) continue;
        const int64_t c = __atomic_fetch_add(&run->next, 1, __ATOMIC_RELAXED);
        if (c < run->end) return c;
    }
    return -1;
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#endif
}

/* Waits (spinning: a chunk takes microseconds) until every chunk of the 4-bit pass is done. */
static void await_pass(split_t *sp) {
    for (int spins = 0; __atomic_load_n(&sp->done, __ATOMIC_ACQUIRE) < sp->chunks; spins++) {
        cpu_relax();
        if (spins >= 4096) { /* the other thread lost its core: let it have ours */
            sched_yield();
            spins = 0;
        }
    }
}

/* The floor of the 4-bit candidates: the smallest int8 lower bound of the k best rows by
 * approximate score (the union of every thread's k best holds them). */
static float floor4(const rows_t *r, const query_t *q, int k, const split_t *sp,
                    float *heap, int32_t *rows) {
    if (r->m <= k) return -INFINITY;
    int n = 0;
    for (int t = 0; t < sp->threads; t++)
        for (int e = 0; e < sp->shares[t].n; e++)
            heap_push_row(heap, rows, &n, k, sp->shares[t].heap[e], sp->shares[t].rows[e]);
    float floor_ = INFINITY;
    for (int t = 0; t < n; t++) {
        float lb = lower_bound_row(r, q, rows[t]);
        floor_ = lb < floor_ ? lb : floor_;
    }
    return n == k ? floor_ : -INFINITY;
}

/* One thread's part of a single query's 4-bit pass: approximate scores of the chunks it takes
 * (keeping its k best rows); once all are done, the floor; then the rows of the chunks it
 * takes whose 4-bit upper bound reaches the floor, with their int8 lower bounds. */
static void pass4(const rows_t *r, const query_t *q, int k, int64_t cap, float *a, split_t *sp,
                  int home) {
    share_t *me = &sp->shares[home];
    const int64_t m = r->m;
    int64_t c;
    while ((c = claim(sp, home)) >= 0) {
        const int64_t r0 = c * SPLIT_ROWS, r1 = r0 + SPLIT_ROWS < m ? r0 + SPLIT_ROWS : m;
        approx4(r, q, r0, r1, a);
        for (int64_t b = r0; b < r1; b += 64) { /* the heap sees blocks that could enter it */
            const int64_t e = b + 64 < r1 ? b + 64 : r1;
            if (me->n == k && !(block_max(a, b, e) > me->heap[0])) continue;
            for (int64_t i = b; i < e; i++)
                heap_push_row(me->heap, me->rows, &me->n, k, a[i], (int32_t)i);
        }
        me->mine[me->nmine++] = (int32_t)c;
    }
    __atomic_add_fetch(&sp->done, me->nmine, __ATOMIC_RELEASE);
    await_pass(sp);
    /* every thread computes the same floor from the same heaps (cheaper than a handover;
     * the candidate slots hold the floor's rows until candidates are collected) */
    const float floor_ = floor4(r, q, k, sp, me->scratch, me->cand);
    me->floor_ = floor_;
    for (int64_t t = 0; t < me->nmine; t++) { /* the scores it wrote: in its own cache */
        if (__atomic_load_n(&sp->overflow, __ATOMIC_RELAXED)) return;
        const int64_t r0 = me->mine[t] * SPLIT_ROWS;
        const int64_t r1 = r0 + SPLIT_ROWS < m ? r0 + SPLIT_ROWS : m;
        const int64_t room = cap - me->count;
        int32_t *out = me->cand + me->count;
        const int64_t got = collect(a + r0, r->res4 + r0, r->nrm4 + r0, q->bq, q->be, q->sl4,
                                    floor_, r1 - r0, out, room);
        if (got > room) { /* more than the cap in all: the int8 pass answers */
            __atomic_store_n(&sp->overflow, 1, __ATOMIC_RELAXED);
            return;
        }
        for (int64_t e = 0; e < got; e++) out[e] += (int32_t)r0;
        me->count += got;
    }
    /* their int8 lower bounds (all chunks' candidates at once: a chunk holds a few, too few to
     * fetch the scattered rows far enough ahead) */
    for (int64_t t = 0; t < me->count; t++) {
#if defined(__x86_64__) || defined(__i386__)
        if (t + 8 < me->count) {
            const char *ahead = (const char *)(r->x + me->cand[t + 8] * r->d);
            for (int64_t b = 0; b < r->d; b += 64) _mm_prefetch(ahead + b, _MM_HINT_T0);
        }
#endif
        me->lo[t] = lower_bound_row(r, q, me->cand[t]);
    }
}

/* The rest of a single query after its 4-bit pass: the k-th largest int8 lower bound of the
 * candidates raises the floor; the candidates whose int8 upper bound reaches it are rescored.
 * Returns the rows rescored, or -2 when the 4-bit candidates overflowed the cap (the caller
 * runs the int8 pass instead). */
static int64_t finish_pass4(const rows_t *r, const query_t *q, const float *qf, int k,
                            int64_t cap, split_t *sp, float *heap, int32_t *kept, float *ts,
                            int64_t *ti) {
    int64_t total = 0;
    for (int t = 0; t < sp->threads; t++) total += sp->shares[t].count;
    if (sp->overflow || total > cap) return -2;
    float floor2 = sp->shares[0].floor_;
    int n = 0;
    for (int t = 0; t < sp->threads; t++) {
        const share_t *sh = &sp->shares[t];
        for (int64_t e = 0; e < sh->count; e++) heap_push(heap, &n, k, sh->lo[e]);
    }
    if (n == k && heap[0] > floor2) floor2 = heap[0];
    const float bq2 = 2.0f * q->bq, be2 = 2.0f * q->be, sl2 = 2.0f * q->sl;
    int64_t count = 0;
    for (int t = 0; t < sp->threads; t++) {
        const share_t *sh = &sp->shares[t];
        for (int64_t e = 0; e < sh->count; e++) {
            const int64_t row = sh->cand[e];
            if (sh->lo[e] + (bq2 * r->res[row] + be2 * r->nrm[row] + sl2) >= floor2)
                kept[count++] = (int32_t)row;
        }
    }
    rescore(r, qf, k, kept, count, cap, ts, ti);
    return count;
}

typedef struct {
    const rows_t *r;
    const query_t *qs;
    const float *qf;
    int64_t nq;     /* queries (a single query's rows are shared out instead) */
    int k;
    int64_t cap;
    float *lo;      /* m floats */
    float *heap;    /* k floats */
    int32_t *cand;  /* cap slots */
    float *out_s;   /* nq x k */
    int64_t *out_i; /* nq x k */
    int64_t *count; /* nq: candidates found (above cap: collected in a second pass) */
    int rows_only;
    int64_t group;  /* queries scanning a tile of rows together */
    int64_t *next;  /* shared: the next query to take */
    int8_t *packed; /* AMX: the group's packed query codes (NULL: the VNNI / plain loops) */
    int int4;       /* rows_only: the 4-bit pass instead of int8 bounds */
    split_t *sp;    /* rows_only: what the threads of the query share */
    int home;       /* rows_only: this thread's number among them */
} job_t;

#define TILE_ROWS 256        /* rows per tile: 96 KiB of codes at d = 384 */
#define GROUP_FLOATS (1 << 22) /* lower bounds a thread keeps at once (16 MiB) */

static void *work(void *arg) {
    job_t *j = (job_t *)arg;
    const int64_t m = j->r->m;
    /* work is taken from shared counters, not split in advance: a thread that starts late
     * (waking a thread costs microseconds) takes less */
    if (j->rows_only && j->int4) {
        pass4(j->r, &j->qs[0], j->k, j->cap, j->lo, j->sp, j->home);
        return NULL;
    }
    if (j->rows_only) {
        int64_t c;
        while ((c = claim(j->sp, j->home)) >= 0) {
            const int64_t r0 = c * SPLIT_ROWS, r1 = r0 + SPLIT_ROWS < m ? r0 + SPLIT_ROWS : m;
            lower_bounds(j->r, &j->qs[0], r0, r1, j->lo);
        }
        return NULL;
    }
    /* queries in groups of j->group: each tile of rows is read from memory once per group
     * (it stays in cache while the group's queries scan it), not once per query */
#ifdef HAVE_AMX
    if (j->packed) amx_config(); /* tile state is per thread */
#endif
    for (;;) {
        int64_t g0 = __atomic_fetch_add(j->next, j->group, __ATOMIC_RELAXED);
        if (g0 >= j->nq) break;
        int64_t g1 = g0 + j->group < j->nq ? g0 + j->group : j->nq;
#ifdef HAVE_AMX
        if (j->packed) { /* AMX: sixteen queries at a time */
            for (int64_t s0 = g0; s0 < g1; s0 += 16)
                amx_pack(&j->qs[s0], (g1 - s0 < 16 ? g1 - s0 : 16), j->r->d,
                         j->packed + ((s0 - g0) / 16) * (j->r->d / 64) * 1024);
            for (int64_t t0 = 0; t0 < m; t0 += TILE_ROWS) {
                int64_t t1 = t0 + TILE_ROWS < m ? t0 + TILE_ROWS : m, done = t0;
                for (int64_t s0 = g0; s0 < g1; s0 += 16)
                    done = amx_dots(j->r, j->packed + ((s0 - g0) / 16) * (j->r->d / 64) * 1024,
                                    (g1 - s0 < 16 ? g1 - s0 : 16), t0, t1,
                                    j->lo + (s0 - g0) * m, m);
                for (int64_t qi = g0; qi < g1; qi++)
                    lower_bounds_from(j->r, &j->qs[qi], t0, t1, j->lo + (qi - g0) * m, done);
            }
        } else
#endif
        for (int64_t t0 = 0; t0 < m; t0 += TILE_ROWS) {
            int64_t t1 = t0 + TILE_ROWS < m ? t0 + TILE_ROWS : m;
            for (int64_t qi = g0; qi < g1; qi++)
                lower_bounds(j->r, &j->qs[qi], t0, t1, j->lo + (qi - g0) * m);
        }
        for (int64_t qi = g0; qi < g1; qi++) {
            j->count[qi] = finish_query(j->r, &j->qs[qi], j->qf + qi * j->r->d, j->k,
                                        j->lo + (qi - g0) * m, j->heap, j->cand, j->cap,
                                        j->out_s + qi * j->k, j->out_i + qi * j->k);
        }
    }
#ifdef HAVE_AMX
    if (j->packed) _tile_release();
#endif
    return NULL;
}


/* ---- a pool of worker threads, started on first use ----
 * Starting and joining a thread costs ~30 us here, a fifth of a split single-query scan; the
 * pool's workers sleep on a condition variable between calls. Waking one costs ~10 us, so a
 * worker that finished a call first spins for up to POOL_SPIN_NS (as does the caller waiting
 * for it): back-to-back single queries then hand over in well under a microsecond, and a
 * thread never spins longer than that (a spinning thread is what makes a neighbour's second
 * thread slow). One caller at a time uses the pool, any other starts threads of its own; a
 * forked child starts a pool of its own. */
#define POOL_SPIN_NS 50000

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* spins until cond holds or POOL_SPIN_NS pass (the clock read once every 64 turns) */
#define SPIN_UNTIL(cond)                                                                     \
    do {                                                                                     \
        const int64_t end_ = now_ns() + POOL_SPIN_NS;                                        \
        for (int turn_ = 1; !(cond); turn_++) {                                              \
            cpu_relax();                                                                     \
            if (turn_ % 64 == 0 && now_ns() > end_) break;                                   \
        }                                                                                    \
    } while (0)

#define POOL_MAX 63
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER; /* held by the pool's caller */
static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_go = PTHREAD_COND_INITIALIZER, pool_done = PTHREAD_COND_INITIALIZER;
static int pool_workers = 0;    /* started */
static uint64_t pool_gen = 0;   /* calls posted */
static job_t *pool_jobs = NULL; /* the current call's jobs (worker w runs pool_jobs[w]) */
static int pool_used = 0, pool_pending = 0;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static uint64_t pool_born[POOL_MAX + 1]; /* the generation before a worker's first call */

static void pool_child(void) { /* after fork: no workers in this process */
    pthread_mutex_init(&pool_lock, NULL);
    pthread_mutex_init(&pool_mu, NULL);
    pthread_cond_init(&pool_go, NULL);
    pthread_cond_init(&pool_done, NULL);
    pool_workers = 0;
    pool_gen = 0;
    pool_used = pool_pending = 0;
}
static void pool_init(void) { pthread_atfork(NULL, NULL, pool_child); }

static void *pool_worker(void *arg) {
    const int me = (int)(intptr_t)arg;
    pthread_mutex_lock(&pool_mu);
    uint64_t seen = pool_born[me]; /* not pool_gen: its first call may be posted already */
    for (;;) {
        if (pool_gen == seen) { /* the next call often comes within microseconds */
            pthread_mutex_unlock(&pool_mu);
            SPIN_UNTIL(__atomic_load_n(&pool_gen, __ATOMIC_ACQUIRE) != seen);
            pthread_mutex_lock(&pool_mu);
        }
        while (pool_gen == seen) pthread_cond_wait(&pool_go, &pool_mu);
        seen = pool_gen;
        if (me < pool_used) {
            job_t *j = &pool_jobs[me];
            pthread_mutex_unlock(&pool_mu);
            work(j);
            pthread_mutex_lock(&pool_mu);
            if (__atomic_sub_fetch(&pool_pending, 1, __ATOMIC_RELEASE) == 0)
                pthread_cond_signal(&pool_done);
        }
    }
    return NULL;
}

/* Runs jobs[0] here and jobs[1..used) on the pool's workers (fewer if fewer could start:
 * work is taken from a shared counter, so any number of threads finishes it). Returns -1,
 * having run nothing, when another caller holds the pool. */
static int pool_run(job_t *jobs, int used) {
    pthread_once(&pool_once, pool_init);
    if (pthread_mutex_trylock(&pool_lock) != 0) return -1;
    pthread_mutex_lock(&pool_mu);
    while (pool_workers < used - 1 && pool_workers < POOL_MAX) {
        pthread_t tid;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pool_born[pool_workers + 1] = pool_gen;
        int ok = pthread_create(&tid, &attr, pool_worker, (void *)(intptr_t)(pool_workers + 1));
        pthread_attr_destroy(&attr);
        if (ok != 0) break;
        pool_workers++;
    }
    pool_jobs = jobs;
    pool_used = used < pool_workers + 1 ? used : pool_workers + 1;
    pool_pending = pool_used - 1;
    __atomic_add_fetch(&pool_gen, 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&pool_go);
    pthread_mutex_unlock(&pool_mu);
    work(&jobs[0]);
    SPIN_UNTIL(__atomic_load_n(&pool_pending, __ATOMIC_ACQUIRE) == 0);
    pthread_mutex_lock(&pool_mu);
    while (pool_pending > 0) pthread_cond_wait(&pool_done, &pool_mu);
    pool_jobs = NULL;
    pthread_mutex_unlock(&pool_mu);
    pthread_mutex_unlock(&pool_lock);
    return 0;
}

/* Runs the jobs: jobs[0] here, the others on the pool, or on threads of our own when another
 * caller holds the pool (one that cannot start is no failure: the others take its share). */
static void run_jobs(job_t *jobs, int used) {
    pthread_t tid[64];
    int started[64] = {0};
    if (used == 1) {
        work(&jobs[0]);
    } else if (pool_run(jobs, used) != 0) {
        for (int t = 1; t < used; t++)
            if (pthread_create(&tid[t], NULL, work, &jobs[t]) == 0) started[t] = 1;
        work(&jobs[0]);
        for (int t = 1; t < used; t++) if (started[t]) pthread_join(tid[t], NULL);
    }
}

/* Exact top k of nq float32 queries (nq x d) over the rows, with up to `threads` threads
 * (queries split among them; a single query's rows split among them). Writes out_s / out_i
 * (nq x k, best first) and count (nq: candidates rescored; above cap: every row was).
 * Returns 0; -1 when memory could not be had, -3 for a query that is not finite (then
 * nothing written is to be trusted: the caller's float32 scan answers). */
int verikg_int8_topk(const rows_t *r, const float *qf, int64_t nq, int k, int64_t cap,
                     float *out_s, int64_t *out_i, int64_t *count, int threads) {
    const int64_t m = r->m, d = r->d;
    if (threads < 1) threads = 1;
    if (threads > 64) threads = 64;
    if (nq > 1 && threads > nq) threads = (int)nq;
    size_t mm = (size_t)(m > 0 ? m : 1), kk = (size_t)(k > 0 ? k : 1);
    uint8_t *q8 = malloc((size_t)(nq * d) + 1);
    int8_t *q8s = malloc((size_t)(nq * d) + 1);
    const int int4 = nq == 1 && r->x4 != NULL && d % 128 == 0 && d > 0
                     && int4_pays(r->stats4);
    query_t *qs = malloc(sizeof(query_t) * (size_t)nq);
    int64_t per = nq > 1 ? (nq + 2 * threads - 1) / (2 * threads) : 1; /* two groups each */
    int64_t group = (int64_t)GROUP_FLOATS / (int64_t)mm;
    group = group < 1 ? 1 : (group > per ? per : group);
    int64_t next = 0;
    /* lower bounds (or 4-bit scores): a group's per thread; one array a single query's
     * threads share */
    float *lo = malloc(sizeof(float) * (size_t)(nq > 1 ? threads : 1) * (size_t)group * mm);
    float *heaps = malloc(sizeof(float) * (size_t)threads * kk);
    int32_t *cands = malloc(sizeof(int32_t) * (size_t)threads * (size_t)cap);
    int8_t *packed = NULL; /* AMX: per thread, the packed codes of a group's queries */
    size_t packed_per = (size_t)((group + 15) / 16) * (size_t)(d / 64) * 1024;
#ifdef HAVE_AMX
    if (nq > 1 && d % 64 == 0 && d > 0 && amx_ready())
        packed = aligned_alloc(64, packed_per * (size_t)threads);
#endif
    /* a single query: what its threads share (the 4-bit pass: a share of candidates each) */
    split_t sp = {0};
    float *share_mem = NULL;
    if (nq == 1) {
        sp.chunks = (m + SPLIT_ROWS - 1) / SPLIT_ROWS;
        sp.threads = threads;
        sp.ranges = aligned_alloc(64, sizeof(range_t) * (size_t)threads);
        if (sp.ranges) deal(&sp);
        sp.shares = calloc((size_t)threads, sizeof(share_t));
        /* floats (int32 for row and chunk numbers): heap, rows, cand, lo, scratch, mine */
        const size_t per_share = 3 * kk + 2 * (size_t)cap + (size_t)sp.chunks;
        if (int4) share_mem = malloc(sizeof(float) * per_share * (size_t)threads);
        if (sp.shares && share_mem)
            for (int t = 0; t < threads; t++) {
                float *b = share_mem + per_share * (size_t)t;
                sp.shares[t] = (share_t){.heap = b, .rows = (int32_t *)(b + kk),
                                         .cand = (int32_t *)(b + 2 * kk),
                                         .lo = b + 2 * kk + (size_t)cap,
                                         .scratch = b + 2 * kk + 2 * (size_t)cap,
                                         .mine = (int32_t *)(b + 3 * kk + 2 * (size_t)cap),
                                         .floor_ = -INFINITY};
            }
    }
    int failed = (q8 && q8s && qs && lo && heaps && cands) ? 0 : -1;
    if (nq == 1 && !(sp.ranges && sp.shares && (share_mem || !int4))) failed = -1;
    if (!failed) {
        for (int64_t j = 0; j < nq * d; j++)
            if (!isfinite(qf[j])) failed = -3; /* the bound means nothing: not ours */
    }
    if (!failed) {
        for (int64_t i = 0; i < nq; i++)
            quantize_query(r, qf + i * d, q8 + i * d, q8s + i * d, &qs[i]);
        job_t jobs[64];
        for (int t = 0; t < threads; t++) {
            if (nq == 1) /* one query: its rows are shared out, one lower-bound array */
                jobs[t] = (job_t){r, qs, qf, 1, k, cap, lo, heaps, cands, out_s, out_i, count,
                                  1, 1, &next, NULL, int4, &sp, t};
            else
                jobs[t] = (job_t){r, qs, qf, nq, k, cap,
                                  lo + t * group * (int64_t)mm, heaps + t * (int64_t)kk,
                                  cands + t * cap, out_s, out_i, count, 0, group, &next,
                                  packed ? packed + (size_t)t * packed_per : NULL, 0, NULL, t};
        }
        run_jobs(jobs, threads);
        if (nq == 1) {
            int64_t c = -2;
            if (int4) {
                c = finish_pass4(r, &qs[0], qf, k, cap, &sp, heaps, cands, out_s, out_i);
                int4_tried(r->stats4, c == -2);
            }
            if (c == -2 && int4) { /* too many 4-bit candidates: the int8 pass, shared out */
                deal(&sp);
                for (int t = 0; t < threads; t++) jobs[t].int4 = 0;
                run_jobs(jobs, threads);
            }
            if (c == -2)
                c = finish_query(r, &qs[0], qf, k, lo, heaps, cands, cap, out_s, out_i);
            if (c < 0) failed = -1;
            else count[0] = c;
        }
    }
    free(q8); free(q8s); free(qs); free(lo); free(heaps); free(cands); free(packed);
    free(sp.ranges); free(sp.shares); free(share_mem);
    return failed;
}
