#include "nsaProcessGroup.h"

#include "nsaError.h"

#include <ATen/Functions.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef NSA_WITH_NCCL
#  include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <chrono>
#include <cstdlib>
#include <tuple>

namespace c10d
{
class Logger;
// DistributedDataParallel's bucket assignment, exported by libtorch_cpu. Its header,
// c10d/reducer.hpp, cannot be included from Debian's libtorch-dev 1.13: it includes
// torch/csrc/distributed/autograd/context/context.h, which the package does not ship. The
// declaration is reducer.hpp's.
TORCH_API std::tuple<std::vector<std::vector<size_t>>, std::vector<size_t>>
          compute_bucket_assignment_by_size(const std::vector<at::Tensor> &                     tensors,
                                            const std::vector<size_t> &                         bucket_size,
                                            const std::vector<bool> &                           expect_sparse_gradient,
                                            const std::vector<int64_t> &                        tensor_indices,
                                            const c10::optional<std::weak_ptr<c10d::Logger>> & logger);
} // namespace c10d

namespace nsa
{

class ProcessGroup::Impl
{
public:
  DistributedEnvironment                   environment;
  c10::intrusive_ptr<c10d::Store>          store;
  c10::intrusive_ptr<c10d::ProcessGroup>   group;
  std::string                              backend;
  std::vector<std::vector<std::size_t>>    buckets; ///< parameter indices per gradient bucket
  std::size_t                              bucketedParameters = 0;

  std::string
  Context() const
  {
    return "distributed training: " + environment.Describe() + ": ";
  }

  /** Waits for `work`; a failure (a rank exited, or did not answer within the timeout)
   * becomes an nsa::Error that says so. */
  void
  Wait(const c10::intrusive_ptr<c10d::Work> & work, const char * what) const
  {
    try
    {
      work->wait();
    }
    catch (const std::exception & error)
    {
      throw Error(Context() + "lost contact with the other ranks during " + what +
                  ": a rank exited or did not answer within NSA_DISTRIBUTED_TIMEOUT=" +
                  std::to_string(environment.timeout_seconds) + " s (" + Backend(error) + ")");
    }
  }

  std::string
  Backend(const std::exception & error) const
  {
    return backend + ": " + UserMessage(error);
  }
};

ProcessGroup::ProcessGroup(const DistributedEnvironment & environment, const c10::Device & device)
  : m_Impl(std::make_unique<Impl>())
{
  Impl & impl = *m_Impl;
  impl.environment = environment;
  const std::chrono::milliseconds timeout(static_cast<std::int64_t>(environment.timeout_seconds) * 1000);
  const std::string address = environment.master_addr + ":" + std::to_string(environment.master_port);
  try
  {
    c10d::TCPStoreOptions options;
    options.port = static_cast<std::uint16_t>(environment.master_port);
    options.isServer = environment.rank == 0 && !environment.use_agent_store;
    options.numWorkers = environment.world_size;
    options.waitWorkers = !environment.use_agent_store;
    options.timeout = timeout;
    options.multiTenant = true;
    auto tcpStore = c10::make_intrusive<c10d::TCPStore>(environment.master_addr, options);
    // As PyTorch's env:// rendezvous: under torchrun's agent store, keys of this attempt only.
    const std::string prefix =
      environment.use_agent_store ? "/worker/attempt_" + environment.restart_count : std::string("/nsa");
    impl.store = c10::make_intrusive<c10d::PrefixStore>(prefix, tcpStore);
  }
  catch (const std::exception & error)
  {
    throw Error(impl.Context() + "could not meet the other ranks at MASTER_ADDR:MASTER_PORT = " + address +
                " within " + std::to_string(environment.timeout_seconds) + " s (TCP store: " + UserMessage(error) +
                "); check that every rank uses the same address, that rank 0 runs, and that the port is free");
  }
  try
  {
#ifdef NSA_WITH_NCCL
    if (device.is_cuda())
    {
      auto options = c10d::ProcessGroupNCCL::Options::create();
      options->timeout = timeout;
      impl.group = c10::make_intrusive<c10d::ProcessGroupNCCL>(impl.store, environment.rank, environment.world_size, options);
      impl.backend = "nccl";
    }
#endif
    if (!impl.group)
    {
      auto options = c10d::ProcessGroupGloo::Options::create(timeout);
      // As torch.distributed: GLOO_SOCKET_IFNAME names the network interface, else the
      // address this host's name resolves to.
      if (const char * interface = std::getenv("GLOO_SOCKET_IFNAME"))
      {
        options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(interface));
      }
      else
      {
        options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      }
      options->threads = 2;
      impl.group =
        c10::make_intrusive<c10d::ProcessGroupGloo>(impl.store, environment.rank, environment.world_size, options);
      impl.backend = "gloo";
    }
  }
  catch (const Error &)
  {
    throw;
  }
  catch (const std::exception & error)
  {
    throw Error(impl.Context() + "could not connect the ranks within " + std::to_string(environment.timeout_seconds) +
                " s (rendezvous at " + address + ", " + (impl.backend.empty() ? std::string("gloo") : impl.backend) +
                ": " + UserMessage(error) + "); did every rank start, with the same WORLD_SIZE, MASTER_ADDR and MASTER_PORT?");
  }
  (void)device;
}

ProcessGroup::~ProcessGroup() = default;

int
ProcessGroup::Rank() const
{
  return m_Impl->environment.rank;
}

int
ProcessGroup::WorldSize() const
{
  return m_Impl->environment.world_size;
}

std::string
ProcessGroup::Backend() const
{
  return m_Impl->backend;
}

void
ProcessGroup::AllReduceSum(at::Tensor & tensor, const char * what)
{
  std::vector<at::Tensor> tensors{ tensor };
  c10d::AllreduceOptions  options;
  options.reduceOp = c10d::ReduceOp::SUM;
  c10::intrusive_ptr<c10d::Work> work;
  try
  {
    work = m_Impl->group->allreduce(tensors, options);
  }
  catch (const std::exception & error)
  {
    throw Error(m_Impl->Context() + what + ": all-reduce failed (" + m_Impl->Backend(error) + ")");
  }
  m_Impl->Wait(work, what);
}

void
ProcessGroup::Broadcast(at::Tensor & tensor, const char * what)
{
  std::vector<at::Tensor> tensors{ tensor };
  c10d::BroadcastOptions  options;
  options.rootRank = 0;
  c10::intrusive_ptr<c10d::Work> work;
  try
  {
    work = m_Impl->group->broadcast(tensors, options);
  }
  catch (const std::exception & error)
  {
    throw Error(m_Impl->Context() + what + ": broadcast failed (" + m_Impl->Backend(error) + ")");
  }
  m_Impl->Wait(work, what);
}

std::string
ProcessGroup::BroadcastString(const std::string & text, const char * what)
{
  at::Tensor size = at::full({ 1 }, static_cast<std::int64_t>(text.size()), at::kLong);
  Broadcast(size, what);
  at::Tensor bytes = at::zeros({ size.item<std::int64_t>() }, at::kByte);
  if (Rank() == 0)
  {
    std::copy(text.begin(), text.end(), bytes.data_ptr<std::uint8_t>());
  }
  if (bytes.numel() > 0)
  {
    Broadcast(bytes, what);
  }
  const auto * data = bytes.data_ptr<std::uint8_t>();
  return std::string(data, data + bytes.numel());
}

void
ProcessGroup::BroadcastTensors(const std::vector<at::Tensor> & tensors, const char * what)
{
  for (at::Tensor tensor : tensors)
  {
    at::Tensor data = tensor.detach();
    Broadcast(data, what);
  }
}

void
ProcessGroup::AllReduceGradients(const std::vector<at::Tensor> & parameters)
{
  Impl & impl = *m_Impl;
  for (const auto & parameter : parameters)
  {
    if (!parameter.grad().defined())
    {
      parameter.mutable_grad() = at::zeros_like(parameter);
    }
  }
  if (impl.buckets.empty() || impl.bucketedParameters != parameters.size())
  {
    // DistributedDataParallel's defaults: a small first bucket, then 25 MiB.
    std::vector<at::Tensor> gradients;
    for (const auto & parameter : parameters)
    {
      gradients.push_back(parameter.grad());
    }
    impl.buckets = std::get<0>(c10d::compute_bucket_assignment_by_size(
      gradients, { static_cast<std::size_t>(1024 * 1024), static_cast<std::size_t>(25 * 1024 * 1024) },
      {},
      {},
      {}));
    impl.bucketedParameters = parameters.size();
  }
  std::vector<at::Tensor>                     flats;
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  try
  {
    for (const auto & bucket : impl.buckets)
    {
      std::vector<at::Tensor> pieces;
      for (const std::size_t index : bucket)
      {
        pieces.push_back(parameters[index].grad().reshape({ -1 }));
      }
      flats.push_back(at::cat(pieces));
      std::vector<at::Tensor> tensors{ flats.back() };
      works.push_back(impl.group->allreduce(tensors, c10d::AllreduceOptions{}));
    }
  }
  catch (const std::exception & error)
  {
    throw Error(impl.Context() + "gradient all-reduce failed (" + impl.Backend(error) + ")");
  }
  for (std::size_t b = 0; b < impl.buckets.size(); ++b)
  {
    impl.Wait(works[b], "the gradient all-reduce");
    std::int64_t offset = 0;
    for (const std::size_t index : impl.buckets[b])
    {
      at::Tensor   gradient = parameters[index].grad();
      const auto   count = gradient.numel();
      gradient.copy_(flats[b].slice(0, offset, offset + count).view(gradient.sizes()));
      offset += count;
    }
  }
}

// ---------------------------------------------------------------------------------------
namespace
{

thread_local ProcessGroup * CurrentBatchNormGroup = nullptr;

std::vector<std::int64_t>
ReductionDimensions(const at::Tensor & x)
{
  std::vector<std::int64_t> dims{ 0 };
  for (std::int64_t d = 2; d < x.dim(); ++d)
  {
    dims.push_back(d);
  }
  return dims;
}

/** [1, C, 1, ...] for broadcasting per-channel values against x. */
std::vector<std::int64_t>
ChannelShape(const at::Tensor & x)
{
  std::vector<std::int64_t> shape(static_cast<std::size_t>(x.dim()), 1);
  shape[1] = x.size(1);
  return shape;
}

/** \brief Synchronised batch normalisation as an autograd function (what PyTorch's
 * torch.nn.SyncBatchNorm computes): forward all-reduces per-channel [sum, sum of squares,
 * count], backward per-channel [sum dy, sum dy·(x - mean)]. */
struct SyncBatchNormFunction : public torch::autograd::Function<SyncBatchNormFunction>
{
  static at::Tensor
  forward(torch::autograd::AutogradContext * context,
          const at::Tensor &                 x,
          const at::Tensor &                 weight,
          const at::Tensor &                 bias,
          at::Tensor                         runningMean,
          at::Tensor                         runningVar,
          at::Tensor                         batchesTracked,
          double                             momentum,
          double                             eps,
          std::int64_t                       groupAddress)
  {
    auto &             group = *reinterpret_cast<ProcessGroup *>(groupAddress);
    const std::int64_t channels = x.size(1);
    const auto         dims = ReductionDimensions(x);
    const auto         shape = ChannelShape(x);
    at::Tensor         stats = at::cat({ at::sum(x, dims, false, at::kDouble),
                                 at::sum(x * x, dims, false, at::kDouble),
                                 at::full({ 1 }, static_cast<double>(x.numel() / std::max<std::int64_t>(channels, 1)),
                                          x.options().dtype(at::kDouble)) });
    group.AllReduceSum(stats, "synchronised batch normalisation");
    const double count = stats[2 * channels].item<double>();
    if (count < 1.0)
    {
      throw Error("synchronised batch normalisation: the global batch is empty");
    }
    const at::Tensor mean = stats.slice(0, 0, channels) / count;
    const at::Tensor variance = (stats.slice(0, channels, 2 * channels) / count - mean * mean).clamp_min(0.0);
    const at::Tensor invstd = (variance + eps).rsqrt();
    {
      at::NoGradGuard noGrad;
      batchesTracked.add_(1);
      const double factor = momentum < 0.0 ? 1.0 / batchesTracked.item<double>() : momentum;
      runningMean.mul_(1.0 - factor).add_(mean.to(runningMean.scalar_type()) * factor);
      const at::Tensor unbiased = count > 1.0 ? variance * (count / (count - 1.0)) : variance;
      runningVar.mul_(1.0 - factor).add_(unbiased.to(runningVar.scalar_type()) * factor);
    }
    const at::Tensor meanX = mean.to(x.scalar_type()).view(shape);
    const at::Tensor invstdX = invstd.to(x.scalar_type()).view(shape);
    context->save_for_backward({ x, weight, meanX, invstdX });
    context->saved_data["group"] = groupAddress;
    context->saved_data["count"] = count;
    return (x - meanX) * invstdX * weight.view(shape) + bias.view(shape);
  }

  static torch::autograd::variable_list
  backward(torch::autograd::AutogradContext * context, torch::autograd::variable_list gradients)
  {
    const auto         saved = context->get_saved_variables();
    const at::Tensor & x = saved[0];
    const at::Tensor & weight = saved[1];
    const at::Tensor & mean = saved[2];
    const at::Tensor & invstd = saved[3];
    auto &             group = *reinterpret_cast<ProcessGroup *>(context->saved_data["group"].toInt());
    const double       count = context->saved_data["count"].toDouble();
    const at::Tensor   dy = gradients[0].contiguous();
    const std::int64_t channels = x.size(1);
    const auto         dims = ReductionDimensions(x);
    const auto         shape = ChannelShape(x);
    const at::Tensor   centred = x - mean;
    const at::Tensor   sumDy = at::sum(dy, dims, false, at::kDouble);
    const at::Tensor   sumDyCentred = at::sum(dy * centred, dims, false, at::kDouble);
    const at::Tensor   invstdFlat = invstd.reshape({ -1 });
    // Local weight and bias gradients: the gradient all-reduce sums them over the ranks.
    const at::Tensor gradWeight = (sumDyCentred * invstdFlat.to(at::kDouble)).to(weight.scalar_type());
    const at::Tensor gradBias = sumDy.to(weight.scalar_type());
    at::Tensor       global = at::cat({ sumDy, sumDyCentred });
    group.AllReduceSum(global, "synchronised batch normalisation (backward)");
    const at::Tensor meanDy = (global.slice(0, 0, channels) / count).to(x.scalar_type()).view(shape);
    const at::Tensor meanDyCentred = (global.slice(0, channels, 2 * channels) / count).to(x.scalar_type()).view(shape);
    const at::Tensor gradX = (dy - meanDy - centred * invstd * invstd * meanDyCentred) * (invstd * weight.view(shape));
    return { gradX, gradWeight, gradBias, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor() };
  }
};

} // namespace

BatchNormSyncGuard::BatchNormSyncGuard(ProcessGroup * group)
  : m_Previous(CurrentBatchNormGroup)
{
  CurrentBatchNormGroup = group;
}

BatchNormSyncGuard::~BatchNormSyncGuard()
{
  CurrentBatchNormGroup = m_Previous;
}

ProcessGroup *
BatchNormSyncGroup()
{
  return CurrentBatchNormGroup;
}

at::Tensor
SyncBatchNorm(ProcessGroup &     group,
              const at::Tensor & x,
              const at::Tensor & weight,
              const at::Tensor & bias,
              at::Tensor &       runningMean,
              at::Tensor &       runningVar,
              at::Tensor &       batchesTracked,
              double             momentum,
              double             eps)
{
  return SyncBatchNormFunction::apply(
    x, weight, bias, runningMean, runningVar, batchesTracked, momentum, eps, reinterpret_cast<std::int64_t>(&group));
}

} // namespace nsa
