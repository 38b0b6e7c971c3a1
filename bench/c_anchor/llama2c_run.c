/* A plain C11 reference decoder for llama2.c checkpoints: the algorithm of
 * llama2.c's run.c (f32 everywhere, rmsnorm, one matrix-vector loop per weight,
 * interleaved RoPE with theta 10000, multi-head attention with grouped KV heads,
 * SwiGLU, greedy argmax), written for Tessera's benchmark as the speed anchor of
 * issue 5. The matrix-vector loop carries an OpenMP pragma like run.c's, so -t N
 * runs it on N threads.
 *
 *   llama2c_run model.bin [-n decode_steps] [-t threads] [-p prompt_tokens]
 *
 * Feeds prompt_tokens synthetic tokens one at a time (untimed, as run.c handles
 * prompts), runs one untimed step to fault the mapping in, then times
 * decode_steps greedy steps and prints one JSON line:
 *   {"impl": "c-anchor", "bench": "decode", "dtype": "F32", "threads": T,
 *    "tokens": N, "tok_s": X, "weight_gb_per_token": G, "first_token": K,
 *    "last_token": L, "isa": "sse" | "avx" | "avx2" | "avx512"}
 * Errors go to stderr with exit status 1. Reads version 0 (legacy) and version 1
 * ("ak42") files. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

typedef struct {
  int dim, hidden, layers, heads, kv_heads, vocab, seq_len;
  int shared_classifier;
} Shape;

typedef struct {
  const float *embedding, *rms_att, *wq, *wk, *wv, *wo, *rms_ffn, *w1, *w2, *w3, *rms_final, *wcls;
} Weights;

typedef struct {
  float *x, *xb, *xb2, *hb, *hb2, *q, *att, *logits;
  float *key_cache, *value_cache; /* [layer][position][kv_dim] */
} State;

static void die(const char *message) {
  fprintf(stderr, "llama2c_run: %s\n", message);
  exit(1);
}

static void *checked_calloc(size_t count, size_t size) {
  void *p = calloc(count, size);
  if (p == NULL) die("out of memory");
  return p;
}

static int in_range(int v, int max) { return v > 0 && v <= max; }

/* Parses the header and points the weights into the mapping; exits on any
 * inconsistency between the header and the file length. */
static void map_weights(const uint8_t *data, size_t size, Shape *s, Weights *w) {
  int32_t fields[7];
  size_t offset;
  uint32_t magic = 0;
  if (size >= 4) memcpy(&magic, data, 4);
  if (magic == 0x616b3432u) {
    int32_t version;
    if (size < 256) die("version 1 file shorter than its 256-byte header");
    memcpy(&version, data + 4, 4);
    if (version != 1) die("only llama2.c versions 0 and 1 are supported");
    memcpy(fields, data + 8, sizeof(fields));
    s->shared_classifier = data[36] == 1;
    offset = 256;
  } else {
    if (size < sizeof(fields)) die("file shorter than a llama2.c header");
    memcpy(fields, data, sizeof(fields));
    s->shared_classifier = fields[5] > 0;
    if (fields[5] < 0 && fields[5] > -(1 << 30)) fields[5] = -fields[5];
    offset = sizeof(fields);
  }
  s->dim = fields[0];
  s->hidden = fields[1];
  s->layers = fields[2];
  s->heads = fields[3];
  s->kv_heads = fields[4];
  s->vocab = fields[5];
  s->seq_len = fields[6];
  if (!in_range(s->dim, 1 << 16) || !in_range(s->hidden, 1 << 18) || !in_range(s->layers, 1024) ||
      !in_range(s->heads, s->dim) || !in_range(s->kv_heads, s->heads) ||
      !in_range(s->vocab, 1 << 22) || !in_range(s->seq_len, 1 << 20) || s->dim % s->heads != 0 ||
      s->heads % s->kv_heads != 0 || (s->dim / s->heads) % 2 != 0) {
    die("implausible sizes in the header");
  }
  const int version1 = offset == 256;
  const uint64_t dim = (uint64_t)s->dim, hidden = (uint64_t)s->hidden, layers = (uint64_t)s->layers;
  const uint64_t head = dim / (uint64_t)s->heads, kv_dim = head * (uint64_t)s->kv_heads;
  const uint64_t vocab = (uint64_t)s->vocab;
  uint64_t floats = vocab * dim + layers * dim * 2 + layers * (2 * dim * dim + 2 * kv_dim * dim) +
                    3 * layers * hidden * dim + dim + (s->shared_classifier ? 0 : vocab * dim);
  if (!version1) floats += (uint64_t)s->seq_len * head; /* freq_cis_real + imag */
  if ((uint64_t)size != offset + floats * sizeof(float)) die("file length does not match the header");

  const float *p = (const float *)(data + offset);
#define TAKE(n) (p += (n), p - (n))
  if (version1) {
    w->rms_att = TAKE(layers * dim);
    w->rms_ffn = TAKE(layers * dim);
    w->rms_final = TAKE(dim);
    w->embedding = TAKE(vocab * dim);
  } else {
    w->embedding = TAKE(vocab * dim);
    w->rms_att = TAKE(layers * dim);
  }
  w->wq = TAKE(layers * dim * dim);
  w->wk = TAKE(layers * kv_dim * dim);
  w->wv = TAKE(layers * kv_dim * dim);
  w->wo = TAKE(layers * dim * dim);
  if (!version1) w->rms_ffn = TAKE(layers * dim);
  w->w1 = TAKE(layers * hidden * dim);
  w->w2 = TAKE(layers * dim * hidden);
  w->w3 = TAKE(layers * hidden * dim);
  if (!version1) {
    w->rms_final = TAKE(dim);
    p += (uint64_t)s->seq_len * head; /* the RoPE tables: recomputed below, as run.c does */
  }
  w->wcls = s->shared_classifier ? w->embedding : TAKE(vocab * dim);
#undef TAKE
}

static void rmsnorm(float *out, const float *x, const float *weight, int n) {
  float ss = 0.0f;
  for (int i = 0; i < n; i++) ss += x[i] * x[i];
  ss = 1.0f / sqrtf(ss / n + 1e-5f);
  for (int i = 0; i < n; i++) out[i] = weight[i] * (ss * x[i]);
}

/* out[rows] = w[rows][cols] . x[cols] */
static void matmul(float *out, const float *x, const float *w, int cols, int rows) {
  int r;
#pragma omp parallel for private(r)
  for (r = 0; r < rows; r++) {
    const float *row = w + (size_t)r * cols;
    float sum = 0.0f;
    for (int c = 0; c < cols; c++) sum += row[c] * x[c];
    out[r] = sum;
  }
}

static void softmax(float *x, int n) {
  float max = x[0];
  for (int i = 1; i < n; i++) if (x[i] > max) max = x[i];
  float sum = 0.0f;
  for (int i = 0; i < n; i++) {
    x[i] = expf(x[i] - max);
    sum += x[i];
  }
  for (int i = 0; i < n; i++) x[i] /= sum;
}

/* Rotates pairs (2i, 2i + 1) of each head of `v` (n values) for position pos. */
static void rope(float *v, int n, int head_size, int pos) {
  for (int i = 0; i < n; i += 2) {
    const int j = i % head_size;
    const float angle = pos * (1.0f / powf(10000.0f, (float)j / (float)head_size));
    const float c = cosf(angle), sn = sinf(angle);
    const float a = v[i], b = v[i + 1];
    v[i] = a * c - b * sn;
    v[i + 1] = a * sn + b * c;
  }
}

static const float *forward(const Shape *s, const Weights *w, State *st, int token, int pos) {
  const int dim = s->dim, hidden = s->hidden, head_size = dim / s->heads;
  const int kv_dim = head_size * s->kv_heads, group = s->heads / s->kv_heads;
  float *x = st->x;
  memcpy(x, w->embedding + (size_t)token * dim, (size_t)dim * sizeof(float));
  for (int l = 0; l < s->layers; l++) {
    const size_t cache_offset = (size_t)l * s->seq_len * kv_dim;
    float *k = st->key_cache + cache_offset + (size_t)pos * kv_dim;
    float *v = st->value_cache + cache_offset + (size_t)pos * kv_dim;
    rmsnorm(st->xb, x, w->rms_att + (size_t)l * dim, dim);
    matmul(st->q, st->xb, w->wq + (size_t)l * dim * dim, dim, dim);
    matmul(k, st->xb, w->wk + (size_t)l * kv_dim * dim, dim, kv_dim);
    matmul(v, st->xb, w->wv + (size_t)l * kv_dim * dim, dim, kv_dim);
    rope(st->q, dim, head_size, pos);
    rope(k, kv_dim, head_size, pos);
    int h;
#pragma omp parallel for private(h)
    for (h = 0; h < s->heads; h++) {
      const float *q = st->q + h * head_size;
      float *att = st->att + (size_t)h * s->seq_len;
      const int kv_head = h / group;
      const float scale = 1.0f / sqrtf((float)head_size);
      for (int t = 0; t <= pos; t++) {
        const float *kt = st->key_cache + cache_offset + (size_t)t * kv_dim + kv_head * head_size;
        float score = 0.0f;
        for (int i = 0; i < head_size; i++) score += q[i] * kt[i];
        att[t] = score * scale;
      }
      softmax(att, pos + 1);
      float *out = st->xb + h * head_size;
      memset(out, 0, (size_t)head_size * sizeof(float));
      for (int t = 0; t <= pos; t++) {
        const float *vt = st->value_cache + cache_offset + (size_t)t * kv_dim + kv_head * head_size;
        for (int i = 0; i < head_size; i++) out[i] += att[t] * vt[i];
      }
    }
    matmul(st->xb2, st->xb, w->wo + (size_t)l * dim * dim, dim, dim);
    for (int i = 0; i < dim; i++) x[i] += st->xb2[i];
    rmsnorm(st->xb, x, w->rms_ffn + (size_t)l * dim, dim);
    matmul(st->hb, st->xb, w->w1 + (size_t)l * hidden * dim, dim, hidden);
    matmul(st->hb2, st->xb, w->w3 + (size_t)l * hidden * dim, dim, hidden);
    for (int i = 0; i < hidden; i++) {
      const float g = st->hb[i];
      st->hb[i] = g / (1.0f + expf(-g)) * st->hb2[i]; /* SiLU(w1 x) * (w3 x) */
    }
    matmul(st->xb, st->hb, w->w2 + (size_t)l * dim * hidden, hidden, dim);
    for (int i = 0; i < dim; i++) x[i] += st->xb[i];
  }
  rmsnorm(x, x, w->rms_final, dim);
  matmul(st->logits, x, w->wcls, dim, s->vocab);
  return st->logits;
}

static int argmax(const float *v, int n) {
  int best = 0;
  for (int i = 1; i < n; i++) if (v[i] > v[best]) best = i;
  return best;
}

/* The vector instructions the compiler was allowed to use (the build's -march). */
static const char *compiled_isa(void) {
#if defined(__AVX512F__)
  return "avx512";
#elif defined(__AVX2__)
  return "avx2";
#elif defined(__AVX__)
  return "avx";
#else
  return "sse";
#endif
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  if (argc < 2) die("usage: llama2c_run model.bin [-n decode_steps] [-t threads] [-p prompt_tokens]");
  int steps = 16, threads = 1, prompt_tokens = 1;
  for (int i = 2; i + 1 < argc; i += 2) {
    const int value = atoi(argv[i + 1]);
    if (strcmp(argv[i], "-n") == 0) steps = value;
    else if (strcmp(argv[i], "-t") == 0) threads = value;
    else if (strcmp(argv[i], "-p") == 0) prompt_tokens = value;
    else die("unknown flag (-n, -t, -p)");
  }
  if (steps < 1 || threads < 1 || prompt_tokens < 1) die("-n, -t and -p must be positive");
#ifdef _OPENMP
  omp_set_num_threads(threads);
#else
  if (threads != 1) die("built without OpenMP: -t must be 1");
#endif
  const int fd = open(argv[1], O_RDONLY);
  if (fd < 0) die("cannot open the checkpoint");
  struct stat st_file;
  if (fstat(fd, &st_file) != 0 || st_file.st_size <= 0) die("cannot stat the checkpoint");
  const size_t size = (size_t)st_file.st_size;
  const uint8_t *data = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (data == MAP_FAILED) die("mmap failed");
  close(fd);
  Shape s;
  Weights w;
  map_weights(data, size, &s, &w);
  if (prompt_tokens + 1 + steps > s.seq_len) die("prompt + steps exceed seq_len");

  const int kv_dim = s.dim / s.heads * s.kv_heads;
  State st;
  st.x = checked_calloc((size_t)s.dim, sizeof(float));
  st.xb = checked_calloc((size_t)s.dim, sizeof(float));
  st.xb2 = checked_calloc((size_t)s.dim, sizeof(float));
  st.hb = checked_calloc((size_t)s.hidden, sizeof(float));
  st.hb2 = checked_calloc((size_t)s.hidden, sizeof(float));
  st.q = checked_calloc((size_t)s.dim, sizeof(float));
  st.att = checked_calloc((size_t)s.heads * s.seq_len, sizeof(float));
  st.logits = checked_calloc((size_t)s.vocab, sizeof(float));
  st.key_cache = checked_calloc((size_t)s.layers * s.seq_len * kv_dim, sizeof(float));
  st.value_cache = checked_calloc((size_t)s.layers * s.seq_len * kv_dim, sizeof(float));

  /* The same synthetic prompt as bench/llama_bench. */
  int pos = 0, token = 0;
  const float *logits = NULL;
  for (; pos < prompt_tokens; pos++) {
    token = (int)(((int64_t)pos * 7919 + 3) % s.vocab);
    logits = forward(&s, &w, &st, token, pos);
  }
  token = argmax(logits, s.vocab);
  const int first_token = token;
  logits = forward(&s, &w, &st, token, pos++); /* untimed: faults the mapping in */
  const double start = now_seconds();
  for (int i = 0; i < steps; i++) {
    token = argmax(logits, s.vocab);
    logits = forward(&s, &w, &st, token, pos++);
  }
  const double seconds = now_seconds() - start;
  const uint64_t dim = (uint64_t)s.dim, hidden = (uint64_t)s.hidden;
  const double weight_bytes =
      4.0 * ((double)s.layers * (2.0 * dim * dim + 2.0 * kv_dim * dim + 3.0 * hidden * dim) +
             (double)s.vocab * dim);
  printf("{\"impl\": \"c-anchor\", \"bench\": \"decode\", \"dtype\": \"F32\", \"threads\": %d, "
         "\"tokens\": %d, \"tok_s\": %.4f, \"weight_gb_per_token\": %.4f, \"first_token\": %d, "
         "\"last_token\": %d, \"isa\": \"%s\"}\n",
         threads, steps, steps / seconds, weight_bytes / 1e9, first_token, token, compiled_isa());
  return 0;
}
