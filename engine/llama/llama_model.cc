#include "engine/llama/llama_model.h"

#include <cblas.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <limits>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "engine/gemm/packed_gemm.h"
#include "engine/llama/kernels.h"
#include "engine/llama/stop_sequences.h"
#include "engine/llama/transformer_ops.h"
#include "engine/model/model_config.h"
#include "engine/tokenizer/load_tokenizer.h"
#include "engine/tokenizer/sentencepiece_bpe.h"

namespace tessera::llama {
namespace {

using model::DType;
using model::TensorView;
using TensorFinder = std::function<const TensorView*(absl::string_view)>;

// Sizes above these are not a LLaMA we can run (and would overflow buffers).
constexpr int kMaxDim = 1 << 16;
constexpr int kMaxVocab = 1 << 22;
constexpr int kMaxLayers = 1024;
constexpr int kMaxContext = 1 << 20;

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string ShapeString(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) absl::StrAppend(&out, i ? ", " : "", shape[i]);
  return out + "]";
}

absl::StatusOr<WeightMatrix> GetMatrix(const TensorFinder& find, const std::string& name,
                                       int64_t rows, int64_t cols) {
  const TensorView* tensor = find(name);
  if (tensor == nullptr) return absl::InvalidArgumentError(absl::StrCat("missing tensor ", name));
  if (tensor->shape != std::vector<int64_t>{rows, cols}) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", name, " has shape ",
                                                   ShapeString(tensor->shape), ", config says [",
                                                   rows, ", ", cols, "]"));
  }
  if (!IsSupportedWeightType(tensor->dtype)) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", name, " has type ",
                                                   model::DTypeName(tensor->dtype),
                                                   " (supported: F32, F16, BF16, Q8_0, Q4_0)"));
  }
  absl::StatusOr<uint64_t> bytes = model::TensorByteSize(tensor->dtype, tensor->shape);
  if (!bytes.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", name, ": ", bytes.status().message()));
  }
  if (*bytes != tensor->num_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", name, " holds ", tensor->num_bytes,
                                                   " bytes, its shape needs ", *bytes));
  }
  WeightMatrix matrix;
  matrix.dtype = tensor->dtype;
  matrix.rows = rows;
  matrix.cols = cols;
  matrix.data = tensor->data;
  matrix.row_bytes = static_cast<size_t>(*bytes / rows);
  return matrix;
}

absl::StatusOr<std::vector<float>> GetVector(const TensorFinder& find, const std::string& name,
                                             int64_t size) {
  const TensorView* tensor = find(name);
  if (tensor == nullptr) return absl::InvalidArgumentError(absl::StrCat("missing tensor ", name));
  if (tensor->shape != std::vector<int64_t>{size}) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", name, " has shape ",
                                                   ShapeString(tensor->shape), ", config says [",
                                                   size, "]"));
  }
  std::vector<float> values;
  absl::Status status = model::TensorToF32(*tensor, &values);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", name, ": ", status.message()));
  }
  return values;
}

absl::Status ValidateHParams(const LlamaHParams& h) {
  auto in_range = [](int v, int max) { return v > 0 && v <= max; };
  if (!in_range(h.vocab_size, kMaxVocab) || !in_range(h.dim, kMaxDim) ||
      !in_range(h.ffn_dim, 4 * kMaxDim) || !in_range(h.num_layers, kMaxLayers) ||
      !in_range(h.num_heads, kMaxDim) || !in_range(h.num_kv_heads, kMaxDim) ||
      !in_range(h.context_length, kMaxContext)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "implausible LLaMA sizes: vocab ", h.vocab_size, ", dim ", h.dim, ", ffn ", h.ffn_dim,
        ", layers ", h.num_layers, ", heads ", h.num_heads, "/", h.num_kv_heads, ", context ",
        h.context_length));
  }
  if (h.dim % h.num_heads != 0 || h.num_heads % h.num_kv_heads != 0) {
    return absl::InvalidArgumentError(absl::StrCat("dim ", h.dim, ", heads ", h.num_heads,
                                                   " and kv heads ", h.num_kv_heads,
                                                   " do not divide"));
  }
  if (h.head_dim % 2 != 0) return absl::InvalidArgumentError("head dimension must be even");
  if (!(h.rope_theta > 0) || !(h.rms_norm_eps > 0)) {
    return absl::InvalidArgumentError("rope theta and rms_norm_eps must be positive");
  }
  return absl::OkStatus();
}

// One matrix-vector product of several matrices with the same input (q, k, v;
// gate, up): one ParallelFor over their rows together, so decode waits for the
// threads once instead of once per matrix.
struct MatVecJob {
  const WeightMatrix* w;
  float* out;
};

void FusedMatVec(ThreadPool* pool, std::initializer_list<MatVecJob> jobs, const float* x) {
  int64_t total = 0;
  for (const MatVecJob& job : jobs) total += job.w->rows;
  pool->ParallelFor(total, 16, [&](int64_t begin, int64_t end) {
    int64_t first = 0;  // Index of the job's first row among all rows.
    for (const MatVecJob& job : jobs) {
      const int64_t lo = std::max(begin, first), hi = std::min(end, first + job.w->rows);
      if (lo < hi) {
        DotRows(job.w->dtype, job.w->Row(lo - first), job.w->row_bytes, hi - lo, x, job.w->cols,
                job.out + (lo - first));
      }
      first += job.w->rows;
    }
  });
}

}  // namespace

absl::StatusOr<std::unique_ptr<LlamaModel>> LlamaModel::Load(const std::string& path,
                                                             LlamaLoadOptions options) {
  if (options.num_threads < 1 || options.num_threads > 256) {
    return absl::InvalidArgumentError("num_threads must be in [1, 256]");
  }
  if (options.max_context < 0) return absl::InvalidArgumentError("max_context must be >= 0");
  if (!FileExists(path)) return absl::NotFoundError(absl::StrCat("no model at ", path));
  std::unique_ptr<LlamaModel> model(new LlamaModel());
  absl::Status status = IsDirectory(path)                      ? model->LoadHf(path)
                        : Llama2cCheckpoint::Recognizes(path) ? model->LoadLlama2c(path)
                                                              : model->LoadGguf(path);
  if (status.ok()) status = model->Finish(options);
  if (!status.ok()) {
    return absl::Status(status.code(), absl::StrCat(path, ": ", status.message()));
  }
  return model;
}

absl::Status LlamaModel::LoadGguf(const std::string& path) {
  absl::StatusOr<std::unique_ptr<model::GgufFile>> file = model::GgufFile::Open(path);
  if (!file.ok()) return file.status();
  gguf_ = std::move(*file);
  absl::StatusOr<std::string> arch = gguf_->GetString("general.architecture");
  if (!arch.ok()) return absl::InvalidArgumentError("GGUF has no general.architecture");
  if (*arch != "llama") {
    return absl::InvalidArgumentError(
        absl::StrCat("GGUF architecture \"", *arch, "\" is not llama"));
  }
  absl::StatusOr<model::LlamaHyperParams> hp = model::ReadLlamaHyperParams(*gguf_);
  if (!hp.ok()) return hp.status();
  auto to_int = [](uint64_t v) { return v > (1u << 30) ? -1 : static_cast<int>(v); };
  hparams_.dim = to_int(hp->embedding_length);
  hparams_.ffn_dim = to_int(hp->feed_forward_length);
  hparams_.num_layers = to_int(hp->block_count);
  hparams_.num_heads = to_int(hp->head_count);
  hparams_.num_kv_heads = to_int(hp->head_count_kv);
  hparams_.head_dim = hparams_.num_heads > 0 ? hparams_.dim / hparams_.num_heads : 0;
  hparams_.context_length = hp->context_length == 0 ? 2048 : to_int(hp->context_length);
  hparams_.rope_theta = static_cast<float>(hp->rope_freq_base);
  hparams_.rms_norm_eps = static_cast<float>(hp->rms_norm_eps);
  hparams_.rope_layout = RopeLayout::kInterleaved;
  hparams_.vocab_size = to_int(hp->vocab_size);
  if (hparams_.vocab_size <= 0) {
    const TensorView* embed = gguf_->Find("token_embd.weight");
    if (embed != nullptr && embed->shape.size() == 2) hparams_.vocab_size = to_int(embed->shape[0]);
  }
  if (hp->rope_dimension_count != static_cast<uint64_t>(hparams_.head_dim)) {
    return absl::UnimplementedError(absl::StrCat("partial rotary embeddings (rope dimension ",
                                                 hp->rope_dimension_count, " of head dimension ",
                                                 hparams_.head_dim, ")"));
  }
  absl::Status status = ValidateHParams(hparams_);
  if (!status.ok()) return status;

  absl::StatusOr<model::GgufVocab> vocab = model::ReadGgufVocab(*gguf_);
  if (vocab.ok()) {
    if (vocab->bos_id >= 0) hparams_.bos_id = static_cast<int32_t>(vocab->bos_id);
    if (vocab->eos_id >= 0) hparams_.eos_id = static_cast<int32_t>(vocab->eos_id);
    if (vocab->model == "llama" && !vocab->tokens.empty()) {
      tokenizer::SentencePieceVocab sp;
      sp.pieces = vocab->tokens;
      sp.scores = vocab->scores;
      if (sp.scores.empty()) sp.scores.assign(sp.pieces.size(), 0.0f);
      for (size_t i = 0; i < sp.pieces.size(); ++i) {
        sp.types.push_back(i < vocab->token_types.size()
                               ? static_cast<tokenizer::PieceType>(vocab->token_types[i])
                               : tokenizer::PieceType::kNormal);
      }
      tokenizer::SentencePieceOptions options;
      options.bos_id = static_cast<int32_t>(vocab->bos_id);
      options.eos_id = static_cast<int32_t>(vocab->eos_id);
      options.unk_id = static_cast<int32_t>(vocab->unk_id);
      auto created = tokenizer::SentencePieceBpeTokenizer::Create(std::move(sp), options);
      if (!created.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("GGUF vocabulary: ", created.status().message()));
      }
      tokenizer_ = std::move(*created);
    }
  }

  const model::GgufFile* gguf = gguf_.get();
  return BindTensors([gguf](absl::string_view name) { return gguf->Find(name); }, model::kLlamaCppTensorNames,
                     /*tied_embeddings=*/true);
}

// llama2.c's run.c fixes what the file does not store: theta 10000, eps 1e-5
// (LlamaHParams' defaults), BOS 1, EOS 2, and rotates interleaved pairs.
absl::Status LlamaModel::LoadLlama2c(const std::string& path) {
  absl::StatusOr<std::unique_ptr<Llama2cCheckpoint>> checkpoint = Llama2cCheckpoint::Open(path);
  if (!checkpoint.ok()) return checkpoint.status();
  llama2c_ = std::move(*checkpoint);
  const Llama2cConfig& c = llama2c_->config();
  hparams_.vocab_size = c.vocab_size;
  hparams_.dim = c.dim;
  hparams_.ffn_dim = c.hidden_dim;
  hparams_.num_layers = c.num_layers;
  hparams_.num_heads = c.num_heads;
  hparams_.num_kv_heads = c.num_kv_heads;
  hparams_.head_dim = c.dim / c.num_heads;
  hparams_.context_length = c.seq_len;
  hparams_.rope_layout = RopeLayout::kInterleaved;
  absl::Status status = ValidateHParams(hparams_);
  if (!status.ok()) return status;
  const size_t slash = path.find_last_of('/');
  const std::string tokenizer_path =
      (slash == std::string::npos ? std::string(".") : path.substr(0, slash)) + "/tokenizer.bin";
  if (FileExists(tokenizer_path)) {
    absl::StatusOr<std::unique_ptr<tokenizer::Tokenizer>> loaded =
        tokenizer::LoadTokenizer(tokenizer_path);
    if (!loaded.ok()) return loaded.status();
    tokenizer_ = std::move(*loaded);
  }
  const Llama2cCheckpoint* ckpt = llama2c_.get();
  return BindTensors([ckpt](absl::string_view name) { return ckpt->Find(name); }, model::kLlamaCppTensorNames,
                     /*tied_embeddings=*/true);
}

absl::Status LlamaModel::BindTensors(const TensorFinder& find, const model::LlamaTensorNames& names,
                                     bool tied_embeddings) {
  const LlamaHParams& h = hparams_;
  const int kv_dim = h.num_kv_heads * h.head_dim;
  absl::StatusOr<WeightMatrix> matrix = GetMatrix(find, names.embedding, h.vocab_size, h.dim);
  if (!matrix.ok()) return matrix.status();
  embedding_ = *matrix;
  if (find(names.output) != nullptr) {
    matrix = GetMatrix(find, names.output, h.vocab_size, h.dim);
    if (!matrix.ok()) return matrix.status();
    output_ = *matrix;
  } else if (tied_embeddings) {
    output_ = embedding_;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("missing tensor ", names.output,
                                                   " (and tie_word_embeddings is false)"));
  }
  absl::StatusOr<std::vector<float>> norm = GetVector(find, names.output_norm, h.dim);
  if (!norm.ok()) return norm.status();
  output_norm_ = std::move(*norm);
  layers_.resize(h.num_layers);
  for (int i = 0; i < h.num_layers; ++i) {
    const std::string p = absl::StrCat(names.layer_prefix, i, ".");
    Layer& layer = layers_[i];
    struct Spec {
      WeightMatrix* out;
      const char* name;
      int rows, cols;
    };
    const Spec specs[] = {
        {&layer.q, names.q, h.dim, h.dim},
        {&layer.k, names.k, kv_dim, h.dim},
        {&layer.v, names.v, kv_dim, h.dim},
        {&layer.o, names.o, h.dim, h.dim},
        {&layer.gate, names.gate, h.ffn_dim, h.dim},
        {&layer.up, names.up, h.ffn_dim, h.dim},
        {&layer.down, names.down, h.dim, h.ffn_dim},
    };
    for (const Spec& spec : specs) {
      matrix = GetMatrix(find, p + spec.name, spec.rows, spec.cols);
      if (!matrix.ok()) return matrix.status();
      *spec.out = *matrix;
    }
    norm = GetVector(find, p + names.attn_norm, h.dim);
    if (!norm.ok()) return norm.status();
    layer.attn_norm = std::move(*norm);
    norm = GetVector(find, p + names.ffn_norm, h.dim);
    if (!norm.ok()) return norm.status();
    layer.ffn_norm = std::move(*norm);
  }
  return absl::OkStatus();
}

absl::Status LlamaModel::LoadHf(const std::string& path) {
  absl::StatusOr<model::LlamaConfig> config = model::LoadLlamaConfig(path);
  if (!config.ok()) return config.status();
  hparams_.vocab_size = config->vocab_size;
  hparams_.dim = config->hidden_size;
  hparams_.ffn_dim = config->intermediate_size;
  hparams_.num_layers = config->num_hidden_layers;
  hparams_.num_heads = config->num_attention_heads;
  hparams_.num_kv_heads = config->num_key_value_heads;
  hparams_.head_dim = config->num_attention_heads > 0
                          ? config->hidden_size / config->num_attention_heads
                          : 0;
  hparams_.context_length = config->max_position_embeddings;
  hparams_.rope_theta = static_cast<float>(config->rope_theta);
  hparams_.rms_norm_eps = static_cast<float>(config->rms_norm_eps);
  hparams_.bos_id = config->bos_token_id;
  hparams_.eos_id = config->eos_token_id;
  hparams_.rope_layout = RopeLayout::kRotateHalf;
  absl::Status status = ValidateHParams(hparams_);
  if (!status.ok()) return status;

  absl::StatusOr<std::unique_ptr<model::SafetensorsCheckpoint>> checkpoint =
      model::SafetensorsCheckpoint::Open(path);
  if (!checkpoint.ok()) return checkpoint.status();
  safetensors_ = std::move(*checkpoint);
  if (FileExists(path + "/tokenizer.json") || FileExists(path + "/tokenizer.model")) {
    absl::StatusOr<std::unique_ptr<tokenizer::Tokenizer>> loaded = tokenizer::LoadTokenizer(path);
    if (!loaded.ok()) return loaded.status();
    tokenizer_ = std::move(*loaded);
  }

  const model::SafetensorsCheckpoint* ckpt = safetensors_.get();
  return BindTensors([ckpt](absl::string_view name) { return ckpt->Find(name); },
                     model::kHuggingFaceTensorNames, config->tie_word_embeddings);
}

absl::Status LlamaModel::Finish(LlamaLoadOptions options) {
  if (tokenizer_ != nullptr && tokenizer_->vocab_size() > hparams_.vocab_size) {
    return absl::InvalidArgumentError(absl::StrCat("tokenizer has ", tokenizer_->vocab_size(),
                                                   " tokens, the model ", hparams_.vocab_size));
  }
  if (options.max_context > 0) {
    hparams_.context_length = std::min(hparams_.context_length, options.max_context);
  }
  const int half = hparams_.head_dim / 2;
  inv_freq_.resize(half);
  // As transformers computes it: in float32.
  for (int i = 0; i < half; ++i) {
    inv_freq_[i] = 1.0f / std::pow(hparams_.rope_theta,
                                   static_cast<float>(2 * i) / static_cast<float>(hparams_.head_dim));
  }
  pool_ = std::make_unique<ThreadPool>(options.num_threads);
  return absl::OkStatus();
}

void LlamaModel::MatMul(const WeightMatrix& w, const float* x, int tokens, float* out) const {
  const int64_t cols = w.cols;
  if (tokens == 1) {
    pool_->ParallelFor(w.rows, 16, [&](int64_t begin, int64_t end) {
      DotRows(w.dtype, w.Row(begin), w.row_bytes, end - begin, x, cols, out + begin);
    });
    return;
  }
  if (gemm::PackedGemmAvailable()) {
    // AVX-512: the tokens are packed into panels once, the weight rows are
    // dequantised a few at a time (staying in L1/L2) and multiplied against every
    // panel; OpenBLAS's AVX2 kernels on a full f32 copy were three times slower.
    constexpr int kRows = gemm::kKernelRows, kColumns = gemm::kPanelColumns;
    std::vector<float> panels;
    gemm::PackPanels(x, tokens, cols, &panels);
    const int64_t panel_count = (tokens + kColumns - 1) / kColumns;
    pool_->ParallelFor(w.rows, kRows, [&](int64_t begin, int64_t end) {
      std::unique_ptr<float[]> dequantised(
          w.dtype == DType::kF32 ? nullptr : new float[kRows * cols]);
      float tile[kRows][kColumns];
      for (int64_t r0 = begin; r0 < end; r0 += kRows) {
        const int rows = static_cast<int>(std::min<int64_t>(kRows, end - r0));
        const float* a = reinterpret_cast<const float*>(w.Row(r0));
        if (dequantised != nullptr) {
          for (int i = 0; i < rows; ++i) {
            RowToF32(w.dtype, w.Row(r0 + i), &dequantised[i * cols], cols);
          }
          a = dequantised.get();
        }
        for (int64_t p = 0; p < panel_count; ++p) {
          gemm::PanelProduct(a, cols, rows, &panels[p * cols * kColumns], cols, tile);
          const int panel_tokens = static_cast<int>(std::min<int64_t>(kColumns, tokens - p * kColumns));
          for (int j = 0; j < panel_tokens; ++j) {
            float* dst = out + (p * kColumns + j) * w.rows + r0;
            for (int i = 0; i < rows; ++i) dst[i] = tile[i][j];
          }
        }
      }
    });
    return;
  }
  if (w.dtype == DType::kF32) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, tokens, static_cast<int>(w.rows),
                static_cast<int>(cols), 1.0f, x, static_cast<int>(cols),
                reinterpret_cast<const float*>(w.data), static_cast<int>(cols), 0.0f, out,
                static_cast<int>(w.rows));
    return;
  }
  // Other types: our threads convert a chunk of rows to f32, then one sgemm
  // (with OpenBLAS's own threads) multiplies it. Not nesting the two keeps the
  // threads of either from competing with the other's.
  const int64_t chunk_rows =
      std::max<int64_t>(64, std::min<int64_t>(w.rows, (int64_t{8} << 20) / (4 * cols)));
  std::unique_ptr<float[]> chunk(new float[chunk_rows * cols]);
  for (int64_t r0 = 0; r0 < w.rows; r0 += chunk_rows) {
    const int64_t n = std::min(chunk_rows, w.rows - r0);
    pool_->ParallelFor(n, 8, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        RowToF32(w.dtype, w.Row(r0 + i), &chunk[i * cols], cols);
      }
    });
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, tokens, static_cast<int>(n),
                static_cast<int>(cols), 1.0f, x, static_cast<int>(cols), chunk.get(),
                static_cast<int>(cols), 0.0f, out + r0, static_cast<int>(w.rows));
  }
}

std::unique_ptr<LlamaSequence> LlamaModel::NewSequence(int capacity) const {
  capacity = std::max(1, std::min(capacity, hparams_.context_length));
  return std::unique_ptr<LlamaSequence>(new LlamaSequence(this, capacity));
}

LlamaSequence::LlamaSequence(const LlamaModel* model, int capacity)
    : model_(model), capacity_(capacity) {
  const LlamaHParams& h = model->hparams_;
  const size_t kv_dim = static_cast<size_t>(h.num_kv_heads) * h.head_dim;
  key_cache_.assign(static_cast<size_t>(h.num_layers) * capacity * kv_dim, 0.0f);
  value_cache_.assign(key_cache_.size(), 0.0f);
  const int half = h.head_dim / 2;
  rope_cos_.resize(static_cast<size_t>(capacity) * half);
  rope_sin_.resize(rope_cos_.size());
  for (int pos = 0; pos < capacity; ++pos) {
    for (int i = 0; i < half; ++i) {
      const float angle = static_cast<float>(pos) * model->inv_freq_[i];
      rope_cos_[static_cast<size_t>(pos) * half + i] = std::cos(angle);
      rope_sin_[static_cast<size_t>(pos) * half + i] = std::sin(angle);
    }
  }
  scores_.resize(static_cast<size_t>(h.num_heads) * capacity);
  logits_.resize(h.vocab_size);
  EnsureBatch(1);
}

void LlamaSequence::EnsureBatch(int tokens) {
  if (tokens <= batch_capacity_) return;
  const LlamaHParams& h = model_->hparams_;
  const size_t t = tokens;
  const size_t kv_dim = static_cast<size_t>(h.num_kv_heads) * h.head_dim;
  x_.resize(t * h.dim);
  norm_.resize(t * h.dim);
  q_.resize(t * h.dim);
  k_.resize(t * kv_dim);
  v_.resize(t * kv_dim);
  attn_.resize(t * h.dim);
  gate_.resize(t * h.ffn_dim);
  up_.resize(t * h.ffn_dim);
  batch_capacity_ = tokens;
}

absl::StatusOr<absl::Span<const float>> LlamaSequence::Forward(absl::Span<const int32_t> ids,
                                                               std::vector<float>* all_logits) {
  const LlamaModel& m = *model_;
  const LlamaHParams& h = m.hparams_;
  if (ids.empty()) return absl::InvalidArgumentError("no tokens to run");
  if (ids.size() > static_cast<size_t>(capacity_ - position_)) {
    return absl::OutOfRangeError(absl::StrCat("sequence of ", position_, " + ", ids.size(),
                                              " tokens exceeds its capacity ", capacity_));
  }
  for (int32_t id : ids) {
    if (id < 0 || id >= h.vocab_size) {
      return absl::InvalidArgumentError(
          absl::StrCat("token id ", id, " outside the vocabulary [0, ", h.vocab_size, ")"));
    }
  }
  const int tokens = static_cast<int>(ids.size());
  EnsureBatch(tokens);
  const int dim = h.dim, head_dim = h.head_dim, half = head_dim / 2;
  const int kv_dim = h.num_kv_heads * head_dim;
  const int group = h.num_heads / h.num_kv_heads;
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  const size_t layer_stride = static_cast<size_t>(capacity_) * kv_dim;

  for (int t = 0; t < tokens; ++t) {
    RowToF32(m.embedding_.dtype, m.embedding_.Row(ids[t]), &x_[static_cast<size_t>(t) * dim], dim);
  }
  for (int l = 0; l < h.num_layers; ++l) {
    const LlamaModel::Layer& layer = m.layers_[l];
    float* key_cache = &key_cache_[l * layer_stride];
    float* value_cache = &value_cache_[l * layer_stride];
    for (int t = 0; t < tokens; ++t) {
      RmsNorm(&x_[static_cast<size_t>(t) * dim], layer.attn_norm.data(), dim, h.rms_norm_eps,
              &norm_[static_cast<size_t>(t) * dim]);
    }
    if (tokens == 1) {
      FusedMatVec(m.pool_.get(), {{&layer.q, q_.data()}, {&layer.k, k_.data()}, {&layer.v, v_.data()}},
                  norm_.data());
    } else {
      m.MatMul(layer.q, norm_.data(), tokens, q_.data());
      m.MatMul(layer.k, norm_.data(), tokens, k_.data());
      m.MatMul(layer.v, norm_.data(), tokens, v_.data());
    }
    for (int t = 0; t < tokens; ++t) {
      const int pos = position_ + t;
      const float* cos = &rope_cos_[static_cast<size_t>(pos) * half];
      const float* sin = &rope_sin_[static_cast<size_t>(pos) * half];
      for (int head = 0; head < h.num_heads; ++head) {
        ApplyRope(&q_[static_cast<size_t>(t) * dim + head * head_dim], cos, sin, head_dim,
                  h.rope_layout);
      }
      float* k = &k_[static_cast<size_t>(t) * kv_dim];
      for (int head = 0; head < h.num_kv_heads; ++head) {
        ApplyRope(k + head * head_dim, cos, sin, head_dim, h.rope_layout);
      }
      std::memcpy(key_cache + static_cast<size_t>(pos) * kv_dim, k, kv_dim * sizeof(float));
      std::memcpy(value_cache + static_cast<size_t>(pos) * kv_dim,
                  &v_[static_cast<size_t>(t) * kv_dim], kv_dim * sizeof(float));
    }
    // Causal attention, one head per task; each head has its own score row.
    m.pool_->ParallelFor(h.num_heads, 1, [&](int64_t begin, int64_t end) {
      for (int64_t head = begin; head < end; ++head) {
        const int kv_offset = static_cast<int>(head / group) * head_dim;
        float* scores = &scores_[static_cast<size_t>(head) * capacity_];
        for (int t = 0; t < tokens; ++t) {
          const int last = position_ + t;
          const float* q = &q_[static_cast<size_t>(t) * dim + head * head_dim];
          AttendOneQuery(
              q, last, head_dim, scale,
              [&](int p) { return key_cache + static_cast<size_t>(p) * kv_dim + kv_offset; },
              [&](int p) { return value_cache + static_cast<size_t>(p) * kv_dim + kv_offset; },
              scores, &attn_[static_cast<size_t>(t) * dim + head * head_dim]);
        }
      }
    });
    m.MatMul(layer.o, attn_.data(), tokens, norm_.data());
    for (size_t i = 0; i < static_cast<size_t>(tokens) * dim; ++i) x_[i] += norm_[i];
    for (int t = 0; t < tokens; ++t) {
      RmsNorm(&x_[static_cast<size_t>(t) * dim], layer.ffn_norm.data(), dim, h.rms_norm_eps,
              &norm_[static_cast<size_t>(t) * dim]);
    }
    if (tokens == 1) {
      FusedMatVec(m.pool_.get(), {{&layer.gate, gate_.data()}, {&layer.up, up_.data()}},
                  norm_.data());
    } else {
      m.MatMul(layer.gate, norm_.data(), tokens, gate_.data());
      m.MatMul(layer.up, norm_.data(), tokens, up_.data());
    }
    for (size_t i = 0; i < static_cast<size_t>(tokens) * h.ffn_dim; ++i) {
      gate_[i] = Silu(gate_[i]) * up_[i];
    }
    m.MatMul(layer.down, gate_.data(), tokens, norm_.data());
    for (size_t i = 0; i < static_cast<size_t>(tokens) * dim; ++i) x_[i] += norm_[i];
  }
  position_ += tokens;

  // Only the rows whose logits are wanted go through the output matrix.
  const int first = all_logits != nullptr ? 0 : tokens - 1;
  const int rows = tokens - first;
  for (int t = first; t < tokens; ++t) {
    RmsNorm(&x_[static_cast<size_t>(t) * dim], m.output_norm_.data(), dim, h.rms_norm_eps,
            &norm_[static_cast<size_t>(t - first) * dim]);
  }
  if (all_logits != nullptr) {
    all_logits->resize(static_cast<size_t>(rows) * h.vocab_size);
    m.MatMul(m.output_, norm_.data(), rows, all_logits->data());
    std::memcpy(logits_.data(), all_logits->data() + static_cast<size_t>(rows - 1) * h.vocab_size,
                h.vocab_size * sizeof(float));
  } else {
    m.MatMul(m.output_, norm_.data(), 1, logits_.data());
  }
  return absl::Span<const float>(logits_);
}

absl::Status LlamaModel::AllowedTokens(const constrained::JsonSchemaAcceptor& state,
                                       std::vector<int32_t>* allowed) const {
  if (tokenizer_ == nullptr) {
    return absl::FailedPreconditionError("a JSON schema constraint needs a tokenizer; this model has none");
  }
  absl::MutexLock lock(&trie_mutex_);
  if (token_trie_ == nullptr) {
    absl::StatusOr<std::vector<std::string>> token_bytes = constrained::TokenBytes(*tokenizer_);
    if (!token_bytes.ok()) return token_bytes.status();
    token_trie_ = std::make_unique<constrained::TokenTrie>(*token_bytes);
  }
  token_trie_->AllowedTokens(state, allowed);
  return absl::OkStatus();
}

void LlamaModel::FeedToken(int32_t token, constrained::JsonSchemaAcceptor* state) const {
  absl::MutexLock lock(&trie_mutex_);
  if (token_trie_ != nullptr) state->FeedAll(token_trie_->bytes(token));
}

TokenSelector::TokenSelector(const LlamaModel& model, const SamplingOptions& options)
    : model_(model),
      options_(options),
      sampler_(options, model.hparams().vocab_size),
      matcher_(options.stop),
      work_(model.hparams().vocab_size) {
  result_.finish_reason = "length";
}

absl::StatusOr<std::unique_ptr<TokenSelector>> TokenSelector::Create(
    const LlamaModel& model, absl::Span<const int32_t> prompt_ids, const SamplingOptions& options) {
  absl::Status status = ValidateSamplingOptions(options);
  if (!status.ok()) return status;
  if (prompt_ids.empty()) return absl::InvalidArgumentError("empty prompt");
  const LlamaHParams& h = model.hparams();
  for (int32_t id : prompt_ids) {
    if (id < 0 || id >= h.vocab_size) {
      return absl::InvalidArgumentError(
          absl::StrCat("token id ", id, " outside the vocabulary [0, ", h.vocab_size, ")"));
    }
  }
  if (!options.stop.empty() && model.tokenizer() == nullptr) {
    return absl::FailedPreconditionError("stop sequences need a tokenizer; this model has none");
  }
  std::unique_ptr<TokenSelector> selector(new TokenSelector(model, options));
  if (!options.json_schema.empty()) {
    if (model.tokenizer() == nullptr) {
      return absl::FailedPreconditionError("a JSON schema constraint needs a tokenizer; this model has none");
    }
    absl::StatusOr<std::shared_ptr<const constrained::CompiledSchema>> schema =
        constrained::CompiledSchema::Compile(options.json_schema);
    if (!schema.ok()) return schema.status();
    selector->constraint_.emplace(*std::move(schema));
  }
  if (prompt_ids.size() >= static_cast<size_t>(h.context_length)) {
    return absl::OutOfRangeError(absl::StrCat("prompt of ", prompt_ids.size(),
                                              " tokens does not fit the context of ",
                                              h.context_length));
  }
  selector->prompt_tokens_ = static_cast<int>(prompt_ids.size());
  selector->history_.assign(prompt_ids.begin(), prompt_ids.end());
  selector->history_.reserve(prompt_ids.size() + options.max_tokens);
  selector->result_.tokens.reserve(options.max_tokens);
  if (options.max_tokens == 0) selector->done_ = true;
  return selector;
}

absl::StatusOr<bool> TokenSelector::Next(absl::Span<const float> logits, bool context_full,
                                         GeneratedToken* event) {
  if (done_) return absl::FailedPreconditionError("generation already ended");
  const LlamaHParams& h = model_.hparams();
  if (logits.size() != static_cast<size_t>(h.vocab_size)) {
    return absl::InvalidArgumentError("logits row of the wrong size");
  }
  if (constraint_.has_value()) {
    // Only tokens that keep the output valid (and EOS once it may end).
    allowed_.clear();
    absl::Status status = model_.AllowedTokens(*constraint_, &allowed_);
    if (!status.ok()) return status;
    if (constraint_->CanEnd() && h.eos_id >= 0) allowed_.push_back(h.eos_id);
    if (allowed_.empty()) {
      return absl::InternalError("the JSON schema constraint allows no next token");
    }
    std::fill(work_.begin(), work_.end(), -std::numeric_limits<float>::infinity());
    for (int32_t id : allowed_) work_[id] = logits[id];
    // Logprobs are over the allowed tokens (Sample rescales work_ in place).
    if (options_.logprobs) masked_ = work_;
  } else {
    std::copy(logits.begin(), logits.end(), work_.begin());
  }
  const int32_t token = sampler_.Sample(absl::MakeSpan(work_), history_);
  event->token = token;
  event->top_logprobs.clear();
  if (options_.logprobs) {
    const absl::Span<const float> basis =
        constraint_.has_value() ? absl::MakeConstSpan(masked_) : logits;
    event->logprob = sampler_.LogProbs(basis, token, options_.top_logprobs, &event->top_logprobs);
    result_.logprobs.push_back(event->logprob);
    result_.top_logprobs.push_back(event->top_logprobs);
  }
  history_.push_back(token);
  result_.tokens.push_back(token);
  const bool eos = options_.stop_at_eos && token == h.eos_id;
  bool last = eos || static_cast<int>(result_.tokens.size()) >= options_.max_tokens || context_full;
  if (eos) result_.finish_reason = "eos";
  if (constraint_.has_value() && !eos) {
    // AllowedTokens only offered tokens the acceptor takes.
    model_.FeedToken(token, &*constraint_);
    if (constraint_->MustEnd()) {
      last = true;
      result_.finish_reason = "stop";
    }
  }
  event->text_delta.clear();
  if (const tokenizer::Tokenizer* tok = model_.tokenizer(); tok != nullptr) {
    absl::StatusOr<std::string> decoded = tok->Decode(result_.tokens);
    if (!decoded.ok()) return decoded.status();
    text_ = std::move(*decoded);
    const StopSequenceMatcher::Result check = matcher_.Check(text_, last);
    if (check.stopped) {
      last = true;
      result_.finish_reason = "stop";
    }
    if (check.safe_length > emitted_) {
      event->text_delta = text_.substr(emitted_, check.safe_length - emitted_);
      emitted_ = check.safe_length;
    }
  }
  done_ = last;
  return last;
}

void TokenSelector::Cancel() {
  if (done_) return;
  done_ = true;
  result_.finish_reason = "cancelled";
}

GenerationResult TokenSelector::TakeResult() {
  result_.text = text_.substr(0, emitted_);
  result_.timings.prompt_tokens = prompt_tokens_;
  result_.timings.generated_tokens = static_cast<int>(result_.tokens.size());
  return std::move(result_);
}

absl::StatusOr<GenerationResult> LlamaModel::Generate(absl::Span<const int32_t> prompt_ids,
                                                      const SamplingOptions& options,
                                                      const TokenCallback& callback) const {
  absl::StatusOr<std::unique_ptr<TokenSelector>> selector =
      TokenSelector::Create(*this, prompt_ids, options);
  if (!selector.ok()) return selector.status();
  absl::MutexLock lock(&generate_mutex_);
  using Clock = std::chrono::steady_clock;
  if (options.max_tokens == 0) return (*selector)->TakeResult();
  const int64_t wanted = static_cast<int64_t>(prompt_ids.size()) + options.max_tokens;
  std::unique_ptr<LlamaSequence> sequence =
      NewSequence(static_cast<int>(std::min<int64_t>(wanted, hparams_.context_length)));
  GeneratedToken event;

  const Clock::time_point prefill_start = Clock::now();
  absl::StatusOr<absl::Span<const float>> logits = sequence->Forward(prompt_ids);
  if (!logits.ok()) return logits.status();
  const Clock::time_point decode_start = Clock::now();
  int decode_steps = 0;
  while (true) {
    absl::StatusOr<bool> last =
        (*selector)->Next(*logits, sequence->position() >= sequence->capacity(), &event);
    if (!last.ok()) return last.status();
    if (callback && !callback(event)) {
      (*selector)->Cancel();
      break;
    }
    if (*last) break;
    logits = sequence->Forward(absl::MakeConstSpan(&(*selector)->history().back(), 1));
    if (!logits.ok()) return logits.status();
    ++decode_steps;
  }
  const Clock::time_point end = Clock::now();
  GenerationResult result = (*selector)->TakeResult();
  GenerationTimings& timings = result.timings;
  timings.prefill_seconds = std::chrono::duration<double>(decode_start - prefill_start).count();
  timings.decode_seconds = std::chrono::duration<double>(end - decode_start).count();
  if (timings.prefill_seconds > 0) {
    timings.prefill_tokens_per_second = timings.prompt_tokens / timings.prefill_seconds;
  }
  if (decode_steps > 0 && timings.decode_seconds > 0) {
    timings.decode_tokens_per_second = decode_steps / timings.decode_seconds;
  }
  return result;
}

}  // namespace tessera::llama
