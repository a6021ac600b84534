// NSATrain: trains the NSA network on normal images (see NSATrain.xml and
// Documentation/Programs/NSATrain.md).

#include "nsaAllocator.h"
#include "nsaAtomicOutput.h"
#include "nsaCommandLine.h"
#include "nsaCpuBudget.h"
#include "nsaDistributed.h"
#include "nsaParameterFlags.h"
#include "nsaPreset.h"
#include "nsaStudyPipeline.h"
#include "nsaTrainer.h"

#include "NSATrainXML.h"

int
main(int argc, char * argv[])
{
  // Idle OpenMP threads spin briefly, then sleep (unless OMP_WAIT_POLICY or GOMP_SPINCOUNT is
  // set): beside a busy process, libgomp's long spinning stalled training (issue 17).
  nsa::RestartWithBoundedOpenMPSpinning(argc, argv);
  // Freed tensors stay mapped for the next step instead of faulting in again (issue 17).
  nsa::KeepFreedMemoryForReuse();
  return nsa::RunProgram(NSATrainXMLDescription, argc, argv, [](nsa::ProgramContext & program) {
    // torchrun's or Slurm's variables make this process one rank of a data-parallel job;
    // checked before anything is read.
    const nsa::DistributedEnvironment distributed = nsa::ReadDistributedEnvironment();
    if (program.IsSet("model"))
    {
      // The model and the files written beside it (checkpoint, log, loss plot) may not be an
      // input: checked before the preset and the images are read.
      const std::string           model = program.GetString("model");
      std::vector<nsa::NamedPath> inputs;
      for (const char * flag : { "images", "preset" })
      {
        if (program.IsSet(flag))
        {
          inputs.push_back({ std::string("--") + flag, program.GetString(flag) });
        }
      }
      nsa::CheckOutputPaths(inputs, { { "<model>", model },
                                      { "<model>'s checkpoint", model + ".checkpoint.pt" },
                                      { "<model>'s log", model + ".log.jsonl" },
                                      { "<model>'s loss plot", model + ".loss.png" } });
    }
    nsa::ModelDescription description;
    if (program.IsSet("preset"))
    {
      const nsa::Preset preset = nsa::LoadPreset(program.GetString("preset"));
      description.preset = preset.name;
      description.normalisation = preset.normalisation;
      description.synthesis = preset.synthesis;
      description.network = preset.network;
      description.training = preset.training;
      description.augmentation = preset.augmentation;
      description.prediction = preset.prediction;
    }
    // Command-line values override the preset; the flags are the JSON keys.
    nsa::ApplyParameterFlags(program, description.network, "default");
    nsa::ApplyParameterFlags(program, description.training, "default");
    if (program.IsSet("seed"))
    {
      description.seed = static_cast<std::uint64_t>(program.GetInteger("seed"));
    }

    if (!program.IsSet("images"))
    {
      throw nsa::ParameterError("--images: no training images given");
    }
    if (!program.IsSet("model"))
    {
      throw nsa::ParameterError("--model: no output model file given");
    }
    const std::string modality = program.IsSet("modality") ? program.GetString("modality") : "";
    auto              images = nsa::LoadTrainingImages(
      nsa::ListStudies(program.GetString("images")), description, modality, &program.Progress());

    nsa::TrainerOptions options;
    options.model_path = program.GetString("model");
    options.resume = program.GetBoolean("resume");
    options.torch_threads = program.GetInteger("threads");
    options.distributed = distributed;
    nsa::Trainer trainer(description, std::move(images), options);
    if (distributed.rank == 0)
    {
      program.Progress().Message("idle OpenMP threads: " + nsa::DescribeOpenMPWaiting());
      program.Progress().Message("training on " + std::to_string(trainer.NumberOfUnits()) + " slices or volumes");
    }
    const nsa::Model model = trainer.Train(&program.Progress());
    program.SetReturnValue("finalLoss", model.GetDescription().history.back().loss);
  });
}
