// Synchronised batch normalisation over two ranks (two threads of this process, joined by
// c10d's TCPStore and ProcessGroupGloo on localhost) against LibTorch's batch norm on the
// whole batch: outputs, input/weight/bias gradients and running statistics.

#include "nsaProcessGroup.h"

#include "gtest/gtest.h"

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>
#include <ATen/core/Generator.h>
#include <ATen/CPUGeneratorImpl.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <exception>
#include <thread>

namespace
{

/** A TCP port that is free at the moment (bound to port 0, then released). */
int
FreePort()
{
  const int   fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr *>(&address), &length) != 0)
  {
    throw std::runtime_error("no free TCP port");
  }
  close(fd);
  return ntohs(address.sin_port);
}

struct RankResult
{
  at::Tensor output, gradInput, gradWeight, gradBias, runningMean, runningVar;
};

/** Rank `rank` of two normalises rows [first, last) of x. */
RankResult
RunRank(int rank, int port, const at::Tensor & x, const at::Tensor & dy, const at::Tensor & weight,
        const at::Tensor & bias, std::int64_t first, std::int64_t last)
{
  nsa::DistributedEnvironment environment;
  environment.launcher = "test";
  environment.rank = rank;
  environment.world_size = 2;
  environment.master_addr = "127.0.0.1";
  environment.master_port = port;
  environment.timeout_seconds = 120;
  nsa::ProcessGroup group(environment, c10::Device(c10::kCPU));
  const at::Tensor  input = x.slice(0, first, last).clone().requires_grad_(true);
  const at::Tensor  w = weight.clone().requires_grad_(true);
  const at::Tensor  b = bias.clone().requires_grad_(true);
  at::Tensor        runningMean = at::zeros({ x.size(1) });
  at::Tensor        runningVar = at::ones({ x.size(1) });
  at::Tensor        tracked = at::zeros({}, at::kLong);
  const at::Tensor  y = nsa::SyncBatchNorm(group, input, w, b, runningMean, runningVar, tracked, 0.1, 1e-5);
  (y * dy.slice(0, first, last)).sum().backward();
  group.AllReduceGradients({ w, b });
  EXPECT_EQ(tracked.item<std::int64_t>(), 1);
  return { y.detach(), input.grad(), w.grad(), b.grad(), runningMean, runningVar };
}

void
ExpectClose(const at::Tensor & a, const at::Tensor & b, const char * what)
{
  ASSERT_EQ(a.sizes(), b.sizes()) << what;
  if (a.numel() == 0)
  {
    return;
  }
  // float32 results of sums over 240 values of order 1 whose statistics are accumulated in
  // float64 here and in float32 by LibTorch: a few float32 ulps of the sums, far below 1e-4.
  EXPECT_LT((a - b).abs().max().item<double>(), 1e-4) << what;
}

void
CheckSplit(std::int64_t split)
{
  auto       generator = at::detail::createCPUGenerator(42);
  const auto x = at::randn({ 4, 3, 5, 4 }, generator) * 2.0 + 0.5;
  const auto dy = at::randn({ 4, 3, 5, 4 }, generator);
  const auto weight = at::rand({ 3 }, generator) + 0.5;
  const auto bias = at::randn({ 3 }, generator);

  // Reference: LibTorch's batch norm over the whole batch of one process.
  const at::Tensor input = x.clone().requires_grad_(true);
  const at::Tensor w = weight.clone().requires_grad_(true);
  const at::Tensor b = bias.clone().requires_grad_(true);
  at::Tensor       runningMean = at::zeros({ 3 });
  at::Tensor       runningVar = at::ones({ 3 });
  const at::Tensor y = at::batch_norm(input, w, b, runningMean, runningVar, true, 0.1, 1e-5, false);
  (y * dy).sum().backward();

  const int          port = FreePort();
  RankResult         results[2];
  std::exception_ptr errors[2];
  std::thread        ranks[2];
  for (int rank = 0; rank < 2; ++rank)
  {
    ranks[rank] = std::thread([&, rank] {
      try
      {
        results[rank] = RunRank(rank, port, x, dy, weight, bias, rank == 0 ? 0 : split, rank == 0 ? split : 4);
      }
      catch (...)
      {
        errors[rank] = std::current_exception();
      }
    });
  }
  for (auto & thread : ranks)
  {
    thread.join();
  }
  for (const auto & error : errors)
  {
    if (error)
    {
      std::rethrow_exception(error);
    }
  }
  ExpectClose(at::cat({ results[0].output, results[1].output }), y.detach(), "output");
  ExpectClose(at::cat({ results[0].gradInput, results[1].gradInput }), input.grad(), "input gradient");
  for (const auto & result : results)
  {
    ExpectClose(result.gradWeight, w.grad(), "weight gradient (summed over the ranks)");
    ExpectClose(result.gradBias, b.grad(), "bias gradient (summed over the ranks)");
    ExpectClose(result.runningMean, runningMean, "running mean");
    ExpectClose(result.runningVar, runningVar, "running variance (unbiased over the global batch)");
  }
  // Every rank holds the same bits after the all-reduce.
  EXPECT_TRUE(at::equal(results[0].gradWeight, results[1].gradWeight));
  EXPECT_TRUE(at::equal(results[0].runningVar, results[1].runningVar));
}

} // namespace

TEST(Distributed, SyncBatchNormOverTwoRanksEqualsBatchNormOfTheWholeBatch)
{
  CheckSplit(2);
}

TEST(Distributed, SyncBatchNormWithAnEmptyRank)
{
  // A short last step leaves a rank without samples: it still takes part.
  CheckSplit(0);
}
