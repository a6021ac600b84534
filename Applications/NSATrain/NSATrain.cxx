// NSATrain: trains the NSA network on normal images (see NSATrain.xml and
// Documentation/Programs/NSATrain.md).

#include "nsaAtomicOutput.h"
#include "nsaCommandLine.h"
#include "nsaDeviceName.h"
#include "nsaPreset.h"
#include "nsaStudyPipeline.h"
#include "nsaTrainer.h"

#include "NSATrainXML.h"

int
main(int argc, char * argv[])
{
  return nsa::RunProgram(NSATrainXMLDescription, argc, argv, [](nsa::ProgramContext & program) {
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
      description.training = preset.training;
      description.augmentation = preset.augmentation;
      description.prediction = preset.prediction;
    }
    // Command-line values override the preset; the flags are the JSON keys.
    nlohmann::json overrides = nlohmann::json::object();
    for (const char * key : { "dimension", "epochs", "samples_per_epoch", "batch_size", "slice_axis", "num_workers",
                              "checkpoint_every", "example_every" })
    {
      if (program.IsSet(key))
      {
        overrides[key] = program.GetInteger(key);
      }
    }
    for (const char * key : { "width_multiplier", "learning_rate" })
    {
      if (program.IsSet(key))
      {
        overrides[key] = program.GetDouble(key);
      }
    }
    for (const char * key : { "crop_size", "spacing" })
    {
      if (program.IsSet(key))
      {
        overrides[key] = program.GetDoubleVector(key);
      }
    }
    if (program.IsSet("device"))
    {
      nsa::ValidateDeviceName(program.GetString("device"), "--device");
      overrides["device"] = program.GetString("device");
    }
    if (program.Arguments().WasGiven("mixed_precision"))
    {
      overrides["mixed_precision"] = program.GetBoolean("mixed_precision");
    }
    nsa::UpdateFromJson(description.training, overrides, "command line");
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
    nsa::Trainer trainer(description, std::move(images), options);
    program.Progress().Message("training on " + std::to_string(trainer.NumberOfUnits()) + " slices or volumes");
    const nsa::Model model = trainer.Train(&program.Progress());
    program.SetReturnValue("finalLoss", model.GetDescription().history.back().loss);
  });
}
