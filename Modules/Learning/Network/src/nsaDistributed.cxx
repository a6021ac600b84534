#include "nsaDistributed.h"

#include "nsaError.h"

#include <cstdlib>
#include <limits>

namespace nsa
{

namespace
{

/** A whole decimal integer (optional sign) in [low, high], or ParameterError naming the variable. */
long long
ParseInteger(const std::string & name, const std::string & text, long long low, long long high)
{
  std::size_t i = 0;
  if (i < text.size() && (text[i] == '-' || text[i] == '+'))
  {
    ++i;
  }
  bool digits = i < text.size();
  for (std::size_t j = i; j < text.size(); ++j)
  {
    digits = digits && text[j] >= '0' && text[j] <= '9';
  }
  long long value = 0;
  if (digits && text.size() - i <= 18)
  {
    value = std::stoll(text);
  }
  else
  {
    throw ParameterError("distributed training: " + name + "='" + text + "' is not an integer");
  }
  if (value < low || value > high)
  {
    throw ParameterError("distributed training: " + name + "=" + text + " is outside [" + std::to_string(low) + ", " +
                         std::to_string(high) + "]");
  }
  return value;
}

constexpr long long IntMax = std::numeric_limits<int>::max();

} // namespace

std::string
DistributedEnvironment::Describe() const
{
  return "rank " + std::to_string(rank) + " of " + std::to_string(world_size) + " (" + launcher + ")";
}

std::string
FirstSlurmHost(const std::string & nodeList)
{
  std::string host;
  std::size_t i = 0;
  while (i < nodeList.size() && nodeList[i] != ',')
  {
    if (nodeList[i] == '[')
    {
      const std::size_t close = nodeList.find(']', i);
      if (close == std::string::npos)
      {
        throw ParameterError("distributed training: Slurm node list '" + nodeList + "': unclosed '['");
      }
      // The first item of the group ("03-05,9" -> "03"), zero padding kept.
      const std::string group = nodeList.substr(i + 1, close - i - 1);
      const std::string first = group.substr(0, group.find_first_of(",-"));
      if (first.empty())
      {
        throw ParameterError("distributed training: Slurm node list '" + nodeList + "': empty range '[" + group + "]'");
      }
      host += first;
      i = close + 1;
    }
    else if (nodeList[i] == ']' || nodeList[i] == ' ')
    {
      throw ParameterError("distributed training: Slurm node list '" + nodeList + "' is malformed");
    }
    else
    {
      host += nodeList[i++];
    }
  }
  if (host.empty())
  {
    throw ParameterError("distributed training: Slurm node list '" + nodeList + "' names no host");
  }
  return host;
}

DistributedEnvironment
ReadDistributedEnvironment(const EnvironmentLookup & lookup)
{
  DistributedEnvironment environment;
  if (const auto timeout = lookup("NSA_DISTRIBUTED_TIMEOUT"))
  {
    environment.timeout_seconds = static_cast<int>(ParseInteger("NSA_DISTRIBUTED_TIMEOUT", *timeout, 1, 86400));
  }
  const auto rank = lookup("RANK");
  const auto worldSize = lookup("WORLD_SIZE");
  const auto procId = lookup("SLURM_PROCID");
  const auto tasks = lookup("SLURM_NTASKS");
  const auto masterAddr = lookup("MASTER_ADDR");
  const auto masterPort = lookup("MASTER_PORT");

  if (rank || worldSize)
  {
    if (!rank || !worldSize)
    {
      throw ParameterError(std::string("distributed training: ") + (rank ? "RANK" : "WORLD_SIZE") + " is set but " +
                           (rank ? "WORLD_SIZE" : "RANK") +
                           " is not; set both (torchrun does), or neither to train in one process");
    }
    environment.launcher = "torchrun";
    environment.world_size = static_cast<int>(ParseInteger("WORLD_SIZE", *worldSize, 1, IntMax));
    environment.rank = static_cast<int>(ParseInteger("RANK", *rank, 0, IntMax));
    if (environment.rank >= environment.world_size)
    {
      throw ParameterError("distributed training: RANK=" + *rank + " must be smaller than WORLD_SIZE=" + *worldSize);
    }
    if (const auto localRank = lookup("LOCAL_RANK"))
    {
      environment.local_rank = static_cast<int>(ParseInteger("LOCAL_RANK", *localRank, 0, environment.world_size - 1));
      if (environment.local_rank > environment.rank)
      {
        throw ParameterError("distributed training: LOCAL_RANK=" + *localRank + " is larger than RANK=" + *rank +
                             " (ranks are numbered node by node, so a rank is at least its local rank)");
      }
      if (const auto localWorldSize = lookup("LOCAL_WORLD_SIZE"))
      {
        const long long local = ParseInteger("LOCAL_WORLD_SIZE", *localWorldSize, 1, environment.world_size);
        if (environment.local_rank >= local)
        {
          throw ParameterError("distributed training: LOCAL_RANK=" + *localRank +
                               " must be smaller than LOCAL_WORLD_SIZE=" + *localWorldSize);
        }
      }
    }
    const auto agentStore = lookup("TORCHELASTIC_USE_AGENT_STORE");
    environment.use_agent_store = agentStore && *agentStore == "True";
    if (const auto restarts = lookup("TORCHELASTIC_RESTART_COUNT"))
    {
      environment.restart_count = *restarts;
    }
  }
  else if (procId || tasks)
  {
    if (!procId || !tasks)
    {
      throw ParameterError(std::string("distributed training: ") + (procId ? "SLURM_PROCID" : "SLURM_NTASKS") +
                           " is set but " + (procId ? "SLURM_NTASKS" : "SLURM_PROCID") + " is not");
    }
    environment.launcher = "slurm";
    environment.world_size = static_cast<int>(ParseInteger("SLURM_NTASKS", *tasks, 1, IntMax));
    environment.rank = static_cast<int>(ParseInteger("SLURM_PROCID", *procId, 0, IntMax));
    if (environment.rank >= environment.world_size)
    {
      throw ParameterError("distributed training: SLURM_PROCID=" + *procId + " must be smaller than SLURM_NTASKS=" +
                           *tasks);
    }
    if (const auto localId = lookup("SLURM_LOCALID"))
    {
      environment.local_rank = static_cast<int>(ParseInteger("SLURM_LOCALID", *localId, 0, environment.world_size - 1));
      if (environment.local_rank > environment.rank)
      {
        throw ParameterError("distributed training: SLURM_LOCALID=" + *localId + " is larger than SLURM_PROCID=" +
                             *procId);
      }
    }
  }
  else
  {
    return environment;
  }
  if (!environment.IsDistributed())
  {
    return environment;
  }

  // Rendezvous address: MASTER_ADDR / MASTER_PORT, or Slurm's defaults.
  if (masterAddr && !masterAddr->empty())
  {
    environment.master_addr = *masterAddr;
  }
  else if (environment.launcher == "slurm")
  {
    auto nodeList = lookup("SLURM_JOB_NODELIST");
    if (!nodeList)
    {
      nodeList = lookup("SLURM_NODELIST");
    }
    if (!nodeList)
    {
      throw ParameterError("distributed training: SLURM_NTASKS=" + *tasks +
                           " but neither MASTER_ADDR nor SLURM_JOB_NODELIST is set: no host for the rendezvous");
    }
    environment.master_addr = FirstSlurmHost(*nodeList);
  }
  else
  {
    throw ParameterError("distributed training: WORLD_SIZE=" + *worldSize +
                         " but MASTER_ADDR is not set: the ranks need the host of rank 0 to meet");
  }
  if (masterPort)
  {
    environment.master_port = static_cast<int>(ParseInteger("MASTER_PORT", *masterPort, 1, 65535));
  }
  else if (environment.launcher == "slurm")
  {
    const auto jobId = lookup("SLURM_JOB_ID");
    if (!jobId)
    {
      throw ParameterError("distributed training: neither MASTER_PORT nor SLURM_JOB_ID is set: no port for the rendezvous");
    }
    environment.master_port = static_cast<int>(20000 + ParseInteger("SLURM_JOB_ID", *jobId, 0, 1LL << 62) % 20000);
  }
  else
  {
    throw ParameterError("distributed training: WORLD_SIZE=" + *worldSize +
                         " but MASTER_PORT is not set: the ranks need the port of rank 0 to meet");
  }
  return environment;
}

DistributedEnvironment
ReadDistributedEnvironment()
{
  return ReadDistributedEnvironment([](const std::string & name) -> std::optional<std::string> {
    const char * value = std::getenv(name.c_str());
    if (value == nullptr)
    {
      return std::nullopt;
    }
    return std::string(value);
  });
}

std::int64_t
StepsPerEpoch(std::int64_t samples, std::int64_t globalBatch)
{
  if (samples <= 0 || globalBatch <= 0)
  {
    return 0;
  }
  return (samples + globalBatch - 1) / globalBatch;
}

SampleRange
RankSamples(std::int64_t samples, std::int64_t globalBatch, std::int64_t step, int rank, int worldSize)
{
  if (worldSize < 1 || rank < 0 || rank >= worldSize || globalBatch <= 0 || step < 0)
  {
    throw ParameterError("RankSamples: rank " + std::to_string(rank) + " of " + std::to_string(worldSize) +
                         ", global batch " + std::to_string(globalBatch) + ", step " + std::to_string(step) +
                         " are not valid");
  }
  const std::int64_t begin = std::min(samples, step * globalBatch);
  const std::int64_t end = std::min(samples, begin + globalBatch);
  const std::int64_t count = end - begin;
  SampleRange        range;
  range.first = begin + count * rank / worldSize;
  range.last = begin + count * (rank + 1) / worldSize;
  return range;
}

} // namespace nsa
