// Data-parallel training: the launch environment (torchrun, Slurm, none, inconsistent
// values) and the split of every step's samples over the ranks.

#include "nsaDistributed.h"
#include "nsaError.h"

#include "gtest/gtest.h"

#include <map>
#include <set>

namespace
{

nsa::DistributedEnvironment
Read(const std::map<std::string, std::string> & variables)
{
  return nsa::ReadDistributedEnvironment([&variables](const std::string & name) -> std::optional<std::string> {
    const auto it = variables.find(name);
    if (it == variables.end())
    {
      return std::nullopt;
    }
    return it->second;
  });
}

/** The message of the ParameterError that reading `variables` throws ("" when none). */
std::string
ErrorOf(const std::map<std::string, std::string> & variables)
{
  try
  {
    Read(variables);
  }
  catch (const nsa::ParameterError & error)
  {
    return error.what();
  }
  return "";
}

} // namespace

TEST(Distributed, NoLauncherTrainsAlone)
{
  const auto environment = Read({ { "HOME", "/root" } });
  EXPECT_EQ(environment.launcher, "none");
  EXPECT_EQ(environment.rank, 0);
  EXPECT_EQ(environment.world_size, 1);
  EXPECT_FALSE(environment.IsDistributed());
  EXPECT_EQ(environment.timeout_seconds, 300);
}

TEST(Distributed, TorchrunVariables)
{
  const auto environment = Read({ { "RANK", "5" },
                                  { "WORLD_SIZE", "8" },
                                  { "LOCAL_RANK", "1" },
                                  { "LOCAL_WORLD_SIZE", "4" },
                                  { "MASTER_ADDR", "node07" },
                                  { "MASTER_PORT", "29500" },
                                  { "TORCHELASTIC_USE_AGENT_STORE", "True" },
                                  { "TORCHELASTIC_RESTART_COUNT", "2" },
                                  { "NSA_DISTRIBUTED_TIMEOUT", "60" },
                                  // torchrun inside a Slurm allocation: torchrun's variables win.
                                  { "SLURM_PROCID", "0" },
                                  { "SLURM_NTASKS", "2" } });
  EXPECT_EQ(environment.launcher, "torchrun");
  EXPECT_EQ(environment.rank, 5);
  EXPECT_EQ(environment.world_size, 8);
  EXPECT_EQ(environment.local_rank, 1);
  EXPECT_EQ(environment.master_addr, "node07");
  EXPECT_EQ(environment.master_port, 29500);
  EXPECT_TRUE(environment.use_agent_store);
  EXPECT_EQ(environment.restart_count, "2");
  EXPECT_EQ(environment.timeout_seconds, 60);
  EXPECT_TRUE(environment.IsDistributed());
  EXPECT_EQ(environment.Describe(), "rank 5 of 8 (torchrun)");

  // One rank needs no rendezvous; LOCAL_RANK defaults to 0.
  const auto alone = Read({ { "RANK", "0" }, { "WORLD_SIZE", "1" } });
  EXPECT_FALSE(alone.IsDistributed());
  EXPECT_EQ(alone.local_rank, 0);
}

TEST(Distributed, SlurmVariables)
{
  const auto environment = Read({ { "SLURM_PROCID", "3" },
                                  { "SLURM_NTASKS", "8" },
                                  { "SLURM_LOCALID", "3" },
                                  { "SLURM_JOB_NODELIST", "gpu[012-015,20],login1" },
                                  { "SLURM_JOB_ID", "123456" } });
  EXPECT_EQ(environment.launcher, "slurm");
  EXPECT_EQ(environment.rank, 3);
  EXPECT_EQ(environment.world_size, 8);
  EXPECT_EQ(environment.local_rank, 3);
  EXPECT_EQ(environment.master_addr, "gpu012");
  EXPECT_EQ(environment.master_port, 20000 + 123456 % 20000);

  // MASTER_ADDR and MASTER_PORT override Slurm's defaults.
  const auto overridden = Read({ { "SLURM_PROCID", "0" },
                                 { "SLURM_NTASKS", "2" },
                                 { "SLURM_NODELIST", "a1" },
                                 { "MASTER_ADDR", "10.0.0.1" },
                                 { "MASTER_PORT", "4000" } });
  EXPECT_EQ(overridden.master_addr, "10.0.0.1");
  EXPECT_EQ(overridden.master_port, 4000);

  // One task: alone, whatever else Slurm sets.
  EXPECT_FALSE(Read({ { "SLURM_PROCID", "0" }, { "SLURM_NTASKS", "1" } }).IsDistributed());
}

TEST(Distributed, FirstHostOfSlurmNodeLists)
{
  EXPECT_EQ(nsa::FirstSlurmHost("node1"), "node1");
  EXPECT_EQ(nsa::FirstSlurmHost("node1,node2"), "node1");
  EXPECT_EQ(nsa::FirstSlurmHost("node[03-05,9]"), "node03");
  EXPECT_EQ(nsa::FirstSlurmHost("node[7,1-3]x,other"), "node7x");
  EXPECT_EQ(nsa::FirstSlurmHost("rack[2-3]-n[001-004]"), "rack2-n001");
  EXPECT_THROW(nsa::FirstSlurmHost(""), nsa::ParameterError);
  EXPECT_THROW(nsa::FirstSlurmHost("node[1-3"), nsa::ParameterError);
  EXPECT_THROW(nsa::FirstSlurmHost("node[]"), nsa::ParameterError);
  EXPECT_THROW(nsa::FirstSlurmHost(",node1"), nsa::ParameterError);
}

TEST(Distributed, InconsistentVariablesAreRefusedByName)
{
  const std::map<std::string, std::string> rendezvous{ { "MASTER_ADDR", "127.0.0.1" }, { "MASTER_PORT", "29500" } };
  const auto                                with = [&rendezvous](std::map<std::string, std::string> variables) {
    variables.insert(rendezvous.begin(), rendezvous.end());
    return variables;
  };
  EXPECT_NE(ErrorOf({ { "RANK", "0" } }).find("RANK is set but WORLD_SIZE is not"), std::string::npos);
  EXPECT_NE(ErrorOf({ { "WORLD_SIZE", "2" } }).find("WORLD_SIZE is set but RANK is not"), std::string::npos);
  EXPECT_NE(ErrorOf(with({ { "RANK", "2" }, { "WORLD_SIZE", "2" } })).find("RANK=2 must be smaller than WORLD_SIZE=2"),
            std::string::npos);
  EXPECT_NE(ErrorOf(with({ { "RANK", "one" }, { "WORLD_SIZE", "2" } })).find("RANK='one' is not an integer"),
            std::string::npos);
  EXPECT_NE(ErrorOf(with({ { "RANK", "-1" }, { "WORLD_SIZE", "2" } })).find("RANK=-1 is outside"), std::string::npos);
  EXPECT_NE(ErrorOf(with({ { "RANK", "0" }, { "WORLD_SIZE", "0" } })).find("WORLD_SIZE=0 is outside"),
            std::string::npos);
  EXPECT_NE(ErrorOf(with({ { "RANK", "0" }, { "WORLD_SIZE", "2" }, { "LOCAL_RANK", "1" } }))
              .find("LOCAL_RANK=1 is larger than RANK=0"),
            std::string::npos);
  EXPECT_NE(ErrorOf(with({ { "RANK", "3" }, { "WORLD_SIZE", "4" }, { "LOCAL_RANK", "2" }, { "LOCAL_WORLD_SIZE", "2" } }))
              .find("LOCAL_RANK=2 must be smaller than LOCAL_WORLD_SIZE=2"),
            std::string::npos);
  EXPECT_NE(ErrorOf({ { "RANK", "0" }, { "WORLD_SIZE", "2" }, { "MASTER_PORT", "29500" } }).find("MASTER_ADDR is not set"),
            std::string::npos);
  EXPECT_NE(ErrorOf({ { "RANK", "0" }, { "WORLD_SIZE", "2" }, { "MASTER_ADDR", "h" } }).find("MASTER_PORT is not set"),
            std::string::npos);
  EXPECT_NE(ErrorOf({ { "RANK", "0" }, { "WORLD_SIZE", "2" }, { "MASTER_ADDR", "h" }, { "MASTER_PORT", "70000" } })
              .find("MASTER_PORT=70000 is outside [1, 65535]"),
            std::string::npos);
  EXPECT_NE(ErrorOf({ { "SLURM_PROCID", "0" } }).find("SLURM_PROCID is set but SLURM_NTASKS is not"), std::string::npos);
  EXPECT_NE(ErrorOf({ { "SLURM_PROCID", "4" }, { "SLURM_NTASKS", "4" }, { "SLURM_JOB_NODELIST", "n1" } })
              .find("SLURM_PROCID=4 must be smaller than SLURM_NTASKS=4"),
            std::string::npos);
  EXPECT_NE(ErrorOf({ { "SLURM_PROCID", "0" }, { "SLURM_NTASKS", "2" }, { "SLURM_JOB_ID", "1" } })
              .find("neither MASTER_ADDR nor SLURM_JOB_NODELIST is set"),
            std::string::npos);
  EXPECT_NE(ErrorOf({ { "SLURM_PROCID", "0" }, { "SLURM_NTASKS", "2" }, { "SLURM_JOB_NODELIST", "n1" } })
              .find("neither MASTER_PORT nor SLURM_JOB_ID is set"),
            std::string::npos);
  EXPECT_NE(ErrorOf({ { "NSA_DISTRIBUTED_TIMEOUT", "0" } }).find("NSA_DISTRIBUTED_TIMEOUT=0 is outside"),
            std::string::npos);
}

TEST(Distributed, RankSamplesPartitionEveryStep)
{
  // Epochs of several sizes, world sizes 1-5, per-rank batches 1-4: every step's pieces are
  // disjoint, consecutive, balanced (sizes differ by at most one) and their union over all
  // steps and ranks is exactly 0 .. samples-1, the set one process with batch W·b makes.
  for (std::int64_t samples : { 1, 7, 16, 17, 100 })
  {
    for (int world = 1; world <= 5; ++world)
    {
      for (std::int64_t batch = 1; batch <= 4; ++batch)
      {
        const std::int64_t globalBatch = batch * world;
        const std::int64_t steps = nsa::StepsPerEpoch(samples, globalBatch);
        EXPECT_EQ(steps, (samples + globalBatch - 1) / globalBatch);
        std::set<std::int64_t> seen;
        std::int64_t           total = 0;
        for (std::int64_t step = 0; step < steps; ++step)
        {
          std::int64_t expectedFirst = step * globalBatch;
          std::int64_t smallest = globalBatch, largest = 0;
          for (int rank = 0; rank < world; ++rank)
          {
            const nsa::SampleRange range = nsa::RankSamples(samples, globalBatch, step, rank, world);
            EXPECT_EQ(range.first, expectedFirst) << samples << " " << world << " " << batch;
            expectedFirst = range.last;
            smallest = std::min(smallest, range.Size());
            largest = std::max(largest, range.Size());
            if (step * globalBatch + globalBatch <= samples)
            {
              EXPECT_EQ(range.Size(), batch); // a full step: b samples on every rank
            }
            for (std::int64_t i = range.first; i < range.last; ++i)
            {
              EXPECT_TRUE(seen.insert(i).second) << "sample " << i << " made twice";
            }
            total += range.Size();
          }
          EXPECT_EQ(expectedFirst, std::min(samples, (step + 1) * globalBatch));
          EXPECT_LE(largest - smallest, 1);
        }
        EXPECT_EQ(total, samples);
        EXPECT_EQ(static_cast<std::int64_t>(seen.size()), samples);
        if (!seen.empty())
        {
          EXPECT_EQ(*seen.begin(), 0);
          EXPECT_EQ(*seen.rbegin(), samples - 1);
        }
      }
    }
  }
  // Rank 1 of 2, batch 4 (global 8), 20 samples: steps 0-7, 8-15, 16-19.
  EXPECT_EQ(nsa::RankSamples(20, 8, 0, 1, 2).first, 4);
  EXPECT_EQ(nsa::RankSamples(20, 8, 2, 0, 2).last, 18);
  EXPECT_EQ(nsa::RankSamples(20, 8, 2, 1, 2).first, 18);
  EXPECT_EQ(nsa::RankSamples(3, 8, 0, 3, 4).Size(), 1); // a short last step: 0, 1, 1, 1
  EXPECT_EQ(nsa::RankSamples(3, 8, 0, 0, 4).Size(), 0);
  EXPECT_THROW(nsa::RankSamples(20, 8, 0, 2, 2), nsa::ParameterError);
  EXPECT_THROW(nsa::RankSamples(20, 0, 0, 0, 2), nsa::ParameterError);
}
