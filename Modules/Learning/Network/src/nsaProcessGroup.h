#ifndef nsaProcessGroup_h
#define nsaProcessGroup_h

// Internal header of the Learning module: data-parallel training on LibTorch's c10d. The c10d
// and Gloo headers stay in nsaProcessGroup.cxx (pimpl), so the trainer and the network
// compile without them.

#include "nsaDistributed.h"

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <memory>
#include <string>
#include <vector>

namespace nsa
{

/** \class ProcessGroup
 * \brief The ranks of a data-parallel job, joined through LibTorch's c10d.
 *
 * Rendezvous through a c10d::TCPStore at MASTER_ADDR:MASTER_PORT (hosted by rank 0, or by
 * torchrun's agent, then with PyTorch's "/worker/attempt_<restarts>" key prefix), then a
 * c10d::ProcessGroupGloo (CPU tensors) or, when the Learning module is built against a CUDA
 * LibTorch (NSA_WITH_NCCL) and the device is CUDA, a c10d::ProcessGroupNCCL. Every
 * collective waits at most the environment's timeout; a rank that exits or hangs makes the
 * others throw nsa::Error naming the collective, instead of waiting forever. Collectives
 * must be called in the same order on every rank. */
class ProcessGroup
{
public:
  ProcessGroup(const DistributedEnvironment & environment, const c10::Device & device);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup &) = delete;
  ProcessGroup & operator=(const ProcessGroup &) = delete;

  int
  Rank() const;
  int
  WorldSize() const;
  /** "gloo" or "nccl". */
  std::string
  Backend() const;

  /** Sums `tensor` over the ranks, in place (every rank gets the same bits). */
  void
  AllReduceSum(at::Tensor & tensor, const char * what);
  /** Copies rank 0's `tensor` into every rank's, in place. */
  void
  Broadcast(at::Tensor & tensor, const char * what);
  /** Rank 0's `text` on every rank. */
  std::string
  BroadcastString(const std::string & text, const char * what);

  /** Sums the gradients of `parameters` over the ranks in buckets (c10d's DDP bucket
   * assignment: 1 MiB first, then 25 MiB), each bucket one flat all-reduce, all buckets in
   * flight at once. A parameter without a gradient contributes zeros (and gets them). */
  void
  AllReduceGradients(const std::vector<at::Tensor> & parameters);

  /** Rank 0's values of `tensors` (parameters and buffers) on every rank. */
  void
  BroadcastTensors(const std::vector<at::Tensor> & tensors, const char * what);

  class Impl;

private:
  std::unique_ptr<Impl> m_Impl;
};

/** \brief While alive, batch normalisation in training mode on this thread (the network's
 * forward and backward passes) uses statistics over the whole global batch of all ranks
 * (synchronised batch norm, as PyTorch's SyncBatchNorm), so W ranks with batch b compute what
 * one process computes with batch W·b. */
class BatchNormSyncGuard
{
public:
  explicit BatchNormSyncGuard(ProcessGroup * group);
  ~BatchNormSyncGuard();
  BatchNormSyncGuard(const BatchNormSyncGuard &) = delete;
  BatchNormSyncGuard & operator=(const BatchNormSyncGuard &) = delete;

private:
  ProcessGroup * m_Previous;
};

/** The group of the innermost BatchNormSyncGuard of this thread, or nullptr. */
ProcessGroup *
BatchNormSyncGroup();

/** Batch normalisation of x [N, C, spatial...] in training mode with the mean and variance
 * over all ranks' batches (sums all-reduced in float64); updates the running statistics as
 * torch::nn::BatchNorm does (momentum, or a cumulative average when `momentum` is negative;
 * unbiased variance over the global count). Its
 * backward all-reduces the two per-channel sums the input gradient needs; the weight and
 * bias gradients stay local, to be summed with the other gradients. */
at::Tensor
SyncBatchNorm(ProcessGroup &     group,
              const at::Tensor & x,
              const at::Tensor & weight,
              const at::Tensor & bias,
              at::Tensor &       runningMean,
              at::Tensor &       runningVar,
              at::Tensor &       batchesTracked,
              double             momentum,
              double             eps);

/** Forward of a torch::nn::BatchNorm{2,3}d module: synchronised under a BatchNormSyncGuard in
 * training mode, the module's own forward otherwise. */
template <typename TBatchNorm>
at::Tensor
NormaliseBatch(TBatchNorm & norm, const at::Tensor & x)
{
  ProcessGroup * group = BatchNormSyncGroup();
  if (group == nullptr || !norm->is_training())
  {
    return norm->forward(x);
  }
  return SyncBatchNorm(*group,
                       x,
                       norm->weight,
                       norm->bias,
                       norm->running_mean,
                       norm->running_var,
                       norm->num_batches_tracked,
                       norm->options.momentum() ? *norm->options.momentum() : -1.0,
                       norm->options.eps());
}

} // namespace nsa

#endif
