/* Attention and residual LayerNorm of the fast e5 runtime (rag/embed/kernels.py builds this).
 *
 * The encoder's matmuls run in torch (oneDNN); what torch does slowly for this model is the
 * attention of 12 heads of 32 dimensions over a few hundred tokens (small matmuls, a softmax
 * between them, many temporaries) and the fp32 residual add + LayerNorm + bf16 copy that follow
 * each sublayer. Both are done here in one pass each, in fp32 arithmetic as e5.c does.
 *
 * Activations exchanged with torch are bf16 (uint16_t bit patterns) or fp32, row-major.
 * Everything is single-threaded: callers split work across threads (ctypes releases the GIL).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__AVX512F__)
#define VL 16
#define ROWS 6 /* 6 rows x 2 vectors = 12 accumulators of the 32 zmm registers */
#else
#define VL 8
#define ROWS 3 /* 3 rows x 4 vectors = 12 accumulators of the 16 ymm registers */
#endif
#define HD 32 /* head dimension this kernel is written for */
#define NV (HD / VL)

typedef float vf __attribute__((vector_size(VL * 4)));
typedef int32_t vi __attribute__((vector_size(VL * 4)));

static inline vf vload(const float *p) { vf v; memcpy(&v, p, sizeof v); return v; }
static inline void vstore(float *p, vf v) { memcpy(p, &v, sizeof v); }

static inline float bf2f(uint16_t h) {
    uint32_t u = (uint32_t)h << 16; float f; memcpy(&f, &u, 4); return f;
}
/* round to nearest even, as torch's float -> bfloat16 (inputs are finite) */
static inline uint16_t f2bf(float f) {
    uint32_t u; memcpy(&u, &f, 4);
    u += 0x7FFFu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

/* exp(x) for x <= 0 (softmax after subtracting the row maximum), relative error ~1e-7:
 * Cephes' expf range reduction and polynomial, branch-free so that the loop vectorizes. */
static inline float exp_nonpos(float x) {
    x = x < -87.0f ? -87.0f : x;
    float n = floorf(x * 1.44269504088896341f + 0.5f);
    float r = x - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    union { int32_t i; float f; } s;
    s.i = ((int32_t)n + 127) << 23;
    return p * s.f;
}

/* Scores of ROWS query rows against all keys: S[r][j] = q_r . k_j for j < lp. */
static void scores_tile(const float *q, const float *kt, int lp, float *s) {
    for (int j = 0; j < lp; j += NV * VL) {
        vf acc[ROWS][NV];
        for (int r = 0; r < ROWS; r++)
            for (int v = 0; v < NV; v++) acc[r][v] = (vf){0};
        for (int d = 0; d < HD; d++) {
            vf kv[NV];
            for (int v = 0; v < NV; v++) kv[v] = vload(kt + (size_t)d * lp + j + v * VL);
            for (int r = 0; r < ROWS; r++) {
                float qd = q[r * HD + d];
                for (int v = 0; v < NV; v++) acc[r][v] += qd * kv[v];
            }
        }
        for (int r = 0; r < ROWS; r++)
            for (int v = 0; v < NV; v++) vstore(s + (size_t)r * lp + j + v * VL, acc[r][v]);
    }
}

/* out[r] = sum_j p[r][j] * v_j over the first l keys (v is [l][HD]). */
static void pv_tile(const float *p, int lp, const float *v, int l, float out[ROWS][HD]) {
    vf acc[ROWS][NV];
    for (int r = 0; r < ROWS; r++)
        for (int u = 0; u < NV; u++) acc[r][u] = (vf){0};
    for (int j = 0; j < l; j++) {
        vf vv[NV];
        for (int u = 0; u < NV; u++) vv[u] = vload(v + (size_t)j * HD + u * VL);
        for (int r = 0; r < ROWS; r++) {
            float pj = p[(size_t)r * lp + j];
            for (int u = 0; u < NV; u++) acc[r][u] += pj * vv[u];
        }
    }
    for (int r = 0; r < ROWS; r++)
        for (int u = 0; u < NV; u++) vstore(out[r] + u * VL, acc[r][u]);
}

/* Softmax numerators of one row in place over its first l entries; returns 1 / their sum. */
static float softmax_row(float *s, int l) {
    /* the maximum by whole vectors (a scalar compare-select chain does not vectorize) */
    vf m = (vf){0} + s[0];
    int j = 0;
    for (; j + VL <= l; j += VL) {
        vf x = vload(s + j);
        vi gt = x > m;
        m = (vf)(((vi)x & gt) | ((vi)m & ~gt));
    }
    float mx = m[0];
    for (int u = 1; u < VL; u++) mx = m[u] > mx ? m[u] : mx;
    for (; j < l; j++) mx = s[j] > mx ? s[j] : mx;
    float sum = 0.0f;
    for (int j = 0; j < l; j++) {
        float e = exp_nonpos(s[j] - mx);
        s[j] = e;
        sum += e;
    }
    return 1.0f / sum;
}

/* Multi-head self-attention of padded sequences.
 *
 * qkv: [nseq * lmax, 3 * nh * HD] bf16, each row q | k | v before their bias, bias[3 * nh * HD].
 * ctx: [nseq * lmax, nh * HD] bf16 output; rows past a sequence's length are zeroed.
 * lens: tokens of each sequence (1 <= lens[i] <= lmax); scale: 1 / sqrt(HD).
 * Returns 0, or -1 when the head size is not HD or memory runs out. */
int e5_attention(const uint16_t *qkv, const float *bias, uint16_t *ctx, const int32_t *lens,
                 int nseq, int lmax, int nh, int hd, float scale) {
    if (hd != HD || lmax < 1) return -1;
    const int h = nh * HD, w3 = 3 * h;
    const int lp = (lmax + NV * VL - 1) / (NV * VL) * (NV * VL);   /* key columns, padded */
    const int lq = (lmax + ROWS - 1) / ROWS * ROWS;                 /* query rows, padded */
    float *q = malloc(sizeof(float) * ((size_t)lq * HD + (size_t)HD * lp + (size_t)lmax * HD +
                                       (size_t)ROWS * lp));
    if (!q) return -1;
    float *kt = q + (size_t)lq * HD, *v = kt + (size_t)HD * lp, *s = v + (size_t)lmax * HD;
    float out[ROWS][HD];
    for (int sq = 0; sq < nseq; sq++) {
        const int l = lens[sq];
        const size_t r0 = (size_t)sq * lmax;
        for (int hh = 0; hh < nh; hh++) {
            memset(q, 0, sizeof(float) * ((size_t)lq * HD + (size_t)HD * lp));
            const float *bq = bias + hh * HD, *bk = bq + h, *bv = bk + h;
            for (int i = 0; i < l; i++) {
                const uint16_t *row = qkv + (r0 + i) * w3 + hh * HD;
                for (int d = 0; d < HD; d++) {
                    q[i * HD + d] = (bf2f(row[d]) + bq[d]) * scale;
                    kt[(size_t)d * lp + i] = bf2f(row[h + d]) + bk[d];
                    v[(size_t)i * HD + d] = bf2f(row[2 * h + d]) + bv[d];
                }
            }
            for (int i0 = 0; i0 < l; i0 += ROWS) {
                scores_tile(q + (size_t)i0 * HD, kt, lp, s);
                float inv[ROWS];
                for (int r = 0; r < ROWS; r++) inv[r] = softmax_row(s + (size_t)r * lp, l);
                pv_tile(s, lp, v, l, out);
                for (int r = 0; r < ROWS && i0 + r < l; r++) {
                    uint16_t *o = ctx + (r0 + i0 + r) * h + hh * HD;
                    for (int d = 0; d < HD; d++) o[d] = f2bf(out[r][d] * inv[r]);
                }
            }
        }
        if (l < lmax) memset(ctx + (r0 + l) * h, 0, sizeof(uint16_t) * (size_t)(lmax - l) * h);
    }
    free(q);
    return 0;
}

/* x = LayerNorm(x + y + ybias) row by row (y bf16 [n, h], ybias [h]; y NULL: LayerNorm(x)),
 * as e5.c's add_layernorm (two-pass mean and variance); xb, if not NULL, receives x in bf16. */
void e5_add_layernorm(float *x, const uint16_t *y, const float *ybias, const float *w,
                      const float *b, int n, int h, float eps, uint16_t *xb) {
    for (int t = 0; t < n; t++) {
        float *r = x + (size_t)t * h;
        if (y) {
            const uint16_t *yy = y + (size_t)t * h;
            for (int i = 0; i < h; i++) r[i] += bf2f(yy[i]) + ybias[i];
        }
        float mean = 0.0f;
        for (int i = 0; i < h; i++) mean += r[i];
        mean /= (float)h;
        float var = 0.0f;
        for (int i = 0; i < h; i++) { float d = r[i] - mean; var += d * d; }
        var /= (float)h;
        const float inv = 1.0f / sqrtf(var + eps);
        for (int i = 0; i < h; i++) r[i] = (r[i] - mean) * inv * w[i] + b[i];
        if (xb) {
            uint16_t *o = xb + (size_t)t * h;
            for (int i = 0; i < h; i++) o[i] = f2bf(r[i]);
        }
    }
}

/* erf(x), absolute error < 1.5e-7 (Abramowitz & Stegun 7.1.26), branch-free. */
static inline float erf_approx(float x) {
    float a = fabsf(x);
    float t = 1.0f / (1.0f + 0.3275911f * a);
    float p = 1.061405429f;
    p = p * t - 1.453152027f;
    p = p * t + 1.421413741f;
    p = p * t - 0.284496736f;
    p = p * t + 0.254829592f;
    float y = 1.0f - p * t * exp_nonpos(-a * a);
    return copysignf(y, x);
}

/* y = GELU(y + bias) in place, the erf form of e5.c; y bf16 [n, m], bias [m]. */
void e5_bias_gelu(uint16_t *y, const float *bias, int n, int m) {
    for (int t = 0; t < n; t++) {
        uint16_t *r = y + (size_t)t * m;
        for (int i = 0; i < m; i++) {
            float v = bf2f(r[i]) + bias[i];
            r[i] = f2bf(0.5f * v * (1.0f + erf_approx(v * 0.70710678118654752f)));
        }
    }
}
