// NSAEvaluate: cohort metrics of existing predictions, sharded evaluation and merge, reports.
// The work is done by the Evaluation module (nsaPredictionEvaluation.h, nsaEvaluationReport.h).
#include "nsaAllocator.h"
#include "nsaAtomicOutput.h"
#include "nsaCommandLine.h"
#include "nsaError.h"
#include "nsaEvaluationReport.h"
#include "nsaPredictionEvaluation.h"

#include "NSAEvaluateXML.h"

#include "NSAEvaluateModelPlugin.h"

#include <dlfcn.h>

#include <filesystem>
#include <regex>
#include <sstream>
#include <thread>

namespace
{
namespace fs = std::filesystem;

std::vector<std::string>
PartialFiles(const std::string & folder)
{
  std::error_code error;
  if (!fs::is_directory(folder, error))
  {
    throw nsa::InputError("--merge: folder " + folder + " does not exist");
  }
  std::vector<std::string> files;
  for (const auto & entry : fs::directory_iterator(folder))
  {
    if (entry.is_regular_file() && entry.path().extension() == ".nsaeval")
    {
      files.push_back(entry.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  if (files.empty())
  {
    throw nsa::InputError("--merge: no partial results (*.nsaeval) in " + folder);
  }
  return files;
}

/** The model plug-in (libNSAEvaluateModel.so): $NSA_EVALUATE_MODEL_PLUGIN, else next to the
 * executable (build tree) or in the folder above it (installed: lib/NSAToolkit/). */
NSAEvaluateMakeModelPredictorFunction
LoadModelPlugin()
{
  std::vector<std::string> candidates;
  if (const char * variable = std::getenv("NSA_EVALUATE_MODEL_PLUGIN"))
  {
    candidates.emplace_back(variable);
  }
  std::error_code error;
  const fs::path  executable = fs::read_symlink("/proc/self/exe", error);
  if (!error)
  {
    candidates.push_back((executable.parent_path() / "libNSAEvaluateModel.so").string());
    candidates.push_back((executable.parent_path().parent_path() / "libNSAEvaluateModel.so").string());
  }
  std::string tried;
  for (const std::string & candidate : candidates)
  {
    if (!fs::exists(candidate, error))
    {
      tried += "\n  " + candidate + ": not found";
      continue;
    }
    void * library = dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (library == nullptr)
    {
      tried += "\n  " + candidate + ": " + dlerror();
      continue;
    }
    // Kept loaded for the rest of the program: the predictor's code lives in it.
    if (auto * entry = reinterpret_cast<NSAEvaluateMakeModelPredictorFunction>(
          dlsym(library, NSA_EVALUATE_MODEL_ENTRY_POINT)))
    {
      return entry;
    }
    tried += "\n  " + candidate + ": no entry point " + NSA_EVALUATE_MODEL_ENTRY_POINT;
  }
  throw nsa::ParameterError("--model needs the model plug-in libNSAEvaluateModel.so (built with "
                            "NSA_BUILD_LEARNING=ON); tried:" + tried);
}

/** Evaluates the cohort with a model predicting every case (--model); the maps and scores
 * are saved in <output>/predictions/ in MOOD naming, so that the report shows them and the run
 * can be re-evaluated with --predictions. */
nsa::CohortEvaluation
EvaluateWithModel(nsa::ProgramContext &                    program,
                  const std::vector<nsa::EvaluationCase> & manifest,
                  const nsa::EvaluationSettings &          settings,
                  const nsa::PredictionEvaluationOptions & options,
                  const std::string &                      output)
{
  program.Progress().StartStage("Loading the model");
  nsa::ModelPredictorRequest request;
  request.model = program.GetString("model");
  // "model" (the description's default): the model's own prediction device.
  const std::string device = program.GetString("device");
  request.device = device == "model" ? std::string() : device;
  request.folder = (fs::path(output) / "predictions").string();
  nsa::ModelPredictorResult result;
  LoadModelPlugin()(request, result);
  program.Progress().EndStage();
  if (!result.error.empty())
  {
    throw nsa::InputError("--model: " + result.error);
  }
  return nsa::EvaluateCohort(manifest, settings, options, result.predictor, program.Progress());
}

std::vector<nsa::ReportThumbnail>
Thumbnails(const nsa::CohortEvaluation & evaluation,
           const std::vector<std::size_t> & selection,
           bool                             misses,
           nsa::ProgressObserver &          progress)
{
  std::vector<nsa::ReportThumbnail> thumbnails;
  for (std::size_t i : selection)
  {
    const nsa::CaseRecord & c = evaluation.Cases()[i];
    // A missed lesion is shown where the lesion is; everything else where the score peaks.
    const long         slice = misses && c.lesionSlice >= 0 ? c.lesionSlice : c.peakSlice;
    std::ostringstream caption;
    caption << "score " << (c.score ? std::to_string(*c.score) : std::string("none"))
            << ", label " << (c.label ? (*c.label ? "anomalous" : "normal") : "unknown");
    if (c.Dice())
    {
      caption << ", Dice " << *c.Dice();
    }
    caption << ", slice " << slice;
    try
    {
      thumbnails.push_back({ c.caseId, caption.str(),
                             nsa::RenderCaseThumbnail(c, slice, evaluation.Settings().voxel.threshold) });
    }
    catch (const std::exception & e)
    {
      // A merge may run where some images are not reachable: the metrics do not need them.
      progress.Message("no thumbnail for case " + c.caseId + ": " + e.what());
    }
  }
  return thumbnails;
}
} // namespace

int
main(int argc, char * argv[])
{
  // With --model the network runs here: freed tensors stay mapped for reuse (issue 17).
  nsa::KeepFreedMemoryForReuse();
  return nsa::RunProgram(NSAEvaluateXMLDescription, argc, argv, [](nsa::ProgramContext & program) {
    if (!program.IsSet("output"))
    {
      throw nsa::ParameterError("--output: the output folder is required");
    }
    const std::string output = program.GetString("output");
    // Created now (the model plug-in writes into it), removed again if the run fails before
    // writing anything; the reports may not overwrite an input (a manifest named cases.csv).
    nsa::OutputFolder outputFolder(output);
    {
      std::vector<nsa::NamedPath> inputs;
      for (const char * flag : { "manifest", "region", "predictions", "model" })
      {
        if (program.IsSet(flag))
        {
          inputs.push_back({ std::string("--") + flag, program.GetString(flag) });
        }
      }
      nsa::CheckOutputPaths(inputs, { { "--output", (fs::path(output) / "metrics.json").string() },
                                      { "--output", (fs::path(output) / "cases.csv").string() },
                                      { "--output", (fs::path(output) / "report.html").string() } });
    }

    nsa::EvaluationSettings settings;
    settings.voxel.threshold = program.GetDouble("threshold");
    settings.voxel.fullyConnected = !program.GetBoolean("face_connectivity");
    settings.fprLimit = program.GetDouble("fpr_limit");
    settings.voxel.scoreBits = program.GetInteger("score_bits");

    nsa::CohortEvaluation evaluation;
    unsigned int          shard = 0;
    unsigned int          shards = 1;
    if (program.IsSet("merge"))
    {
      if (program.IsSet("shard"))
      {
        throw nsa::ParameterError("--merge and --shard exclude each other");
      }
      program.Progress().StartStage("Merging partial results");
      evaluation = nsa::CohortEvaluation::MergePartials(PartialFiles(program.GetString("merge")));
      program.Progress().EndStage();
      // The partial results carry the metric settings; a flag that contradicts them is an error.
      const auto & merged = evaluation.Settings();
      const auto & arguments = program.Arguments();
      if ((arguments.WasGiven("threshold") && settings.voxel.threshold != merged.voxel.threshold) ||
          (arguments.WasGiven("fpr_limit") && settings.fprLimit != merged.fprLimit) ||
          (arguments.WasGiven("face_connectivity") && settings.voxel.fullyConnected != merged.voxel.fullyConnected) ||
          (arguments.WasGiven("score_bits") && settings.voxel.scoreBits != merged.voxel.scoreBits))
      {
        throw nsa::ParameterError("--merge: --threshold, --fpr_limit, --face_connectivity and --score_bits must match "
                                  "the values the shards were evaluated with, or be left out");
      }
    }
    else
    {
      if (!program.IsSet("manifest") || program.IsSet("predictions") == program.IsSet("model"))
      {
        throw nsa::ParameterError("--manifest and one of --predictions or --model are required (unless --merge is "
                                  "given)");
      }
      nsa::PredictionEvaluationOptions options;
      if (program.IsSet("predictions"))
      {
        options.predictions = program.GetString("predictions");
      }
      if (program.IsSet("region"))
      {
        options.regionMask = program.GetString("region");
        settings.region = "mask " + fs::path(options.regionMask).filename().string();
      }
      options.regionImageNonzero = program.GetBoolean("region_nonzero_image");
      if (options.regionImageNonzero)
      {
        settings.region += std::string(settings.region.empty() ? "" : " and ") + "image nonzero";
      }
      const int threads = program.GetInteger("threads");
      options.threads = threads > 0 ? static_cast<unsigned int>(threads) : std::max(1u, std::thread::hardware_concurrency());
      if (program.IsSet("shard"))
      {
        const nsa::Shard parsed = nsa::ParseShard(program.GetString("shard"));
        shard = parsed.index;
        shards = parsed.count;
      }
      options.shard = shard;
      options.shards = shards;
      const auto manifest = nsa::ReadEvaluationManifest(program.GetString("manifest"));
      evaluation = program.IsSet("model") ? EvaluateWithModel(program, manifest, settings, options, output)
                                          : nsa::EvaluatePredictionFolder(manifest, settings, options, program.Progress());
      if (program.IsSet("shard"))
      {
        const std::string path = (fs::path(output) / ("partial-" + std::to_string(shard) + "-of-" +
                                                      std::to_string(shards) + ".nsaeval"))
                                   .string();
        evaluation.WritePartial(path, static_cast<int>(shard), static_cast<int>(shards), manifest.size());
        program.Progress().Message("wrote " + path + " (" + std::to_string(evaluation.Cases().size()) + " cases)");
        return;
      }
    }

    const nsa::CohortMetrics metrics = evaluation.Compute();
    std::vector<std::size_t> top, misses;
    nsa::SelectReportCases(evaluation, static_cast<std::size_t>(program.GetInteger("thumbnails")), top, misses);
    program.Progress().StartStage("Rendering thumbnails");
    const auto topThumbnails = Thumbnails(evaluation, top, false, program.Progress());
    program.Progress().Report(0.5);
    const auto missThumbnails = Thumbnails(evaluation, misses, true, program.Progress());
    program.Progress().EndStage();

    nsa::WriteTextFileAtomically((fs::path(output) / "metrics.json").string(), nsa::MetricsJson(evaluation, metrics));
    nsa::WriteTextFileAtomically((fs::path(output) / "cases.csv").string(), nsa::CasesCsv(evaluation));
    nsa::WriteTextFileAtomically((fs::path(output) / "report.html").string(),
                                 nsa::HtmlReport(evaluation, metrics, topThumbnails, missThumbnails,
                                                 program.GetString("title")));

    auto set = [&](const char * name, const std::optional<double> & value) {
      if (value)
      {
        program.SetReturnValue(name, *value);
      }
    };
    set("caseAuroc", metrics.caseAuroc);
    set("caseAveragePrecision", metrics.caseAveragePrecision);
    set("voxelAuroc", metrics.voxelAuroc);
    set("voxelAveragePrecision", metrics.voxelAveragePrecision);
    set("auPro", metrics.auPro);
    if (metrics.bestDice)
    {
      program.SetReturnValue("bestDice", metrics.bestDice->dice);
      program.SetReturnValue("bestDiceThreshold", metrics.bestDice->threshold);
    }
  });
}
