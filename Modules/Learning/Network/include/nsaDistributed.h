#ifndef nsaDistributed_h
#define nsaDistributed_h

// Data-parallel training: who this process is among the ranks of a job (from torchrun's or
// Slurm's environment) and which samples each rank makes. Torch-free; the process group
// itself (LibTorch's c10d) lives in the module's sources.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace nsa
{

/** \brief Where this process stands in a data-parallel job.
 *
 * Read from the launch conventions users already have (ReadDistributedEnvironment):
 * torchrun's RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT, or Slurm's
 * SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID and the first host of SLURM_JOB_NODELIST.
 * world_size 1 means a process that trains alone. */
struct DistributedEnvironment
{
  /** "none" (alone), "torchrun" or "slurm". */
  std::string launcher = "none";
  int         rank = 0;
  int         world_size = 1;
  /** Rank on this node: the CUDA device a rank uses on a GPU machine. */
  int         local_rank = 0;
  /** Rendezvous: host and port of the TCP store (hosted by rank 0, or by torchrun's agent). */
  std::string master_addr;
  int         master_port = 0;
  /** torchrun's agent hosts the store (TORCHELASTIC_USE_AGENT_STORE=True): every rank is a
   * client, and keys are prefixed with the restart count, as PyTorch's env:// does. */
  bool        use_agent_store = false;
  std::string restart_count = "0";
  /** Seconds a rank waits for the others (rendezvous and every collective) before it gives up
   * with an error: NSA_DISTRIBUTED_TIMEOUT, default 300. */
  int         timeout_seconds = 300;

  bool
  IsDistributed() const
  {
    return world_size > 1;
  }
  /** "rank 1 of 4 (torchrun)" for messages. */
  std::string
  Describe() const;
};

/** Looks up one environment variable; std::nullopt when it is not set. */
using EnvironmentLookup = std::function<std::optional<std::string>(const std::string &)>;

/** \brief The job this process belongs to, from its environment.
 *
 * torchrun's variables take precedence (torchrun started inside a Slurm allocation sets
 * them); otherwise Slurm's; otherwise the process runs alone. MASTER_ADDR and MASTER_PORT
 * override Slurm's defaults (the first host of SLURM_JOB_NODELIST, and port
 * 20000 + SLURM_JOB_ID mod 20000). Throws ParameterError naming the variables when they are
 * incomplete, not integers, or inconsistent (RANK >= WORLD_SIZE, a LOCAL_RANK outside
 * LOCAL_WORLD_SIZE, no rendezvous address for more than one rank, a port outside 1-65535). */
DistributedEnvironment
ReadDistributedEnvironment(const EnvironmentLookup & lookup);

/** The same, from the process environment (std::getenv). */
DistributedEnvironment
ReadDistributedEnvironment();

/** The first host of a Slurm node list ("node[03-05,9],gpu1" -> "node03"). Throws
 * ParameterError when the list is empty or malformed. */
std::string
FirstSlurmHost(const std::string & nodeList);

/** Half-open range [first, last) of sample indices. */
struct SampleRange
{
  std::int64_t first = 0;
  std::int64_t last = 0;

  std::int64_t
  Size() const
  {
    return last - first;
  }
};

/** Optimiser steps of an epoch of `samples` samples with `globalBatch` samples a step
 * (batch_size per rank times the world size); the last step may be short. */
std::int64_t
StepsPerEpoch(std::int64_t samples, std::int64_t globalBatch);

/** \brief The samples rank `rank` of `worldSize` makes in optimiser step `step`.
 *
 * Step s covers the epoch's indices [s·G, min((s+1)·G, samples)) with G = globalBatch; that
 * range is cut into `worldSize` consecutive pieces whose sizes differ by at most one (equal,
 * G / worldSize, in every full step). The pieces of all ranks are disjoint and their union is
 * exactly the step's range, so an epoch of W ranks makes exactly the samples of one process
 * with batch G. */
SampleRange
RankSamples(std::int64_t samples, std::int64_t globalBatch, std::int64_t step, int rank, int worldSize);

} // namespace nsa

#endif
