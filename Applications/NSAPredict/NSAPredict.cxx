// NSAPredict: anomaly score maps and case scores of studies (see NSAPredict.xml and
// Documentation/Programs/NSAPredict.md).

#include "nsaAllocator.h"
#include "nsaAtomicOutput.h"
#include "nsaCommandLine.h"
#include "nsaDicomWriters.h"
#include "nsaImageIO.h"
#include "nsaParameterFlags.h"
#include "nsaStudyPipeline.h"

#include "NSAPredictXML.h"

#include "itkBinaryThresholdImageFilter.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>

namespace
{

/** Everything written for one study besides the map. */
struct ExtraOutputs
{
  std::string mask;
  std::string segmentation;
  std::string parametricMap;
  bool        fractional = false;
};

void
WriteOutputs(const nsa::StudyPrediction &      prediction,
             const std::string &               mapPath,
             const ExtraOutputs &              extra,
             const nsa::PredictionParameters & parameters)
{
  nsa::WriteImage(prediction.map.GetPointer(), mapPath);
  if (!extra.mask.empty())
  {
    using MaskType = itk::Image<unsigned char, 3>;
    auto threshold = itk::BinaryThresholdImageFilter<itk::Image<float, 3>, MaskType>::New();
    threshold->SetInput(prediction.map);
    threshold->SetLowerThreshold(static_cast<float>(parameters.threshold));
    threshold->SetInsideValue(1);
    threshold->SetOutsideValue(0);
    threshold->Update();
    nsa::WriteImage(threshold->GetOutput(), extra.mask);
  }
  if (!extra.segmentation.empty())
  {
    nsa::SegmentationOptions options;
    options.fractional = extra.fractional;
    options.threshold = parameters.threshold;
    nsa::WriteDicomSegmentation(prediction.map.GetPointer(), prediction.study.metadata, extra.segmentation, options);
  }
  if (!extra.parametricMap.empty())
  {
    nsa::WriteParametricMap(prediction.map.GetPointer(), prediction.study.metadata, extra.parametricMap);
  }
}

std::string
Stem(const std::string & path)
{
  const std::string name = nsa::StudyName(path);
  return (std::filesystem::path(path).parent_path() / name).string();
}

} // namespace

int
main(int argc, char * argv[])
{
  // Freed tensors stay mapped for the next batch instead of faulting in again (issue 17).
  nsa::KeepFreedMemoryForReuse();
  return nsa::RunProgram(NSAPredictXMLDescription, argc, argv, [](nsa::ProgramContext & program) {
    // Outputs checked before any work: writable, none the same file as an input or as
    // another output (a map written over its own study or over the model).
    {
      const std::string input = program.GetString("inputVolume");
      const std::string output = program.GetString("outputVolume");
      const std::vector<nsa::NamedPath> inputs{ { "<inputVolume>", input }, { "--model", program.GetString("model") } };
      std::vector<nsa::NamedPath> outputs;
      if (nsa::IsWritableImageExtension(output))
      {
        outputs.push_back({ "<outputVolume>", output });
      }
      else if (nsa::IsSamePath(output, input))
      {
        throw nsa::OutputError("<outputVolume> '" + output + "' is the input folder itself; the maps would be written "
                               "over the studies' names; choose another folder");
      }
      else
      {
        namespace fs = std::filesystem;
        const fs::path in = fs::weakly_canonical(fs::absolute(input));
        const fs::path out = fs::weakly_canonical(fs::absolute(output));
        if (std::mismatch(in.begin(), in.end(), out.begin(), out.end()).first == in.end())
        {
          throw nsa::OutputError("<outputVolume> '" + output + "' lies inside the input folder '" + input +
                                 "', where it would be read as a study; choose a folder outside it");
        }
      }
      for (const char * flag : { "mask", "dicom_seg", "dicom_pm" })
      {
        if (program.IsSet(flag))
        {
          outputs.push_back({ std::string("--") + flag, program.GetString(flag) });
        }
      }
      nsa::CheckOutputPaths(inputs, outputs);
    }
    nsa::SetNetworkThreads(program.GetInteger("threads"));
    const nsa::Model model = nsa::Model::Load(program.GetString("model"));

    // The model's prediction settings, overridden by the flags given (flags = JSON keys).
    nsa::PredictionParameters parameters = model.GetDescription().prediction;
    nsa::ApplyParameterFlags(program, parameters, "model");
    const nsa::Predictor predictor(model, parameters);
    const std::string    modality = program.IsSet("modality") ? program.GetString("modality") : "";

    ExtraOutputs extra;
    extra.mask = program.IsSet("mask") ? program.GetString("mask") : "";
    extra.segmentation = program.IsSet("dicom_seg") ? program.GetString("dicom_seg") : "";
    extra.parametricMap = program.IsSet("dicom_pm") ? program.GetString("dicom_pm") : "";
    extra.fractional = program.GetBoolean("fractional");

    const std::string input = program.GetString("inputVolume");
    const std::string output = program.GetString("outputVolume");
    if (!nsa::IsWritableImageExtension(output))
    {
      // Folder mode (MOOD naming): the output has no image extension, so it is a folder.
      if (!std::filesystem::is_directory(input))
      {
        throw nsa::ParameterError("output '" + output + "' is a folder (no image extension), so the input '" + input +
                                  "' must be a folder of studies");
      }
      if (!extra.mask.empty() || !extra.segmentation.empty() || !extra.parametricMap.empty())
      {
        throw nsa::ParameterError("--mask, --dicom_seg and --dicom_pm name one study's outputs; not in folder mode");
      }
      const auto studies = nsa::ListStudies(input);
      std::map<std::string, std::string> names;
      for (const auto & study : studies)
      {
        const auto [previous, added] = names.emplace(study.name, study.path);
        if (!added)
        {
          throw nsa::ParameterError("the studies '" + previous->second + "' and '" + study.path + "' of '" + input +
                                    "' have the same name '" + study.name + "', so their maps would overwrite each "
                                    "other; rename one");
        }
      }
      // --shard k/n: studies k, k+n, ... of the listing (names were checked over all of them,
      // so the shards of a job array cannot overwrite each other's maps).
      const nsa::Shard shard = program.IsSet("shard") ? nsa::ParseShard(program.GetString("shard")) : nsa::Shard{};
      nsa::OutputFolder folder(output);
      for (std::size_t i = 0; i < studies.size(); ++i)
      {
        if (!shard.Contains(i))
        {
          continue;
        }
        program.Progress().StartStage("Predicting " + studies[i].name + " (" + std::to_string(i + 1) + "/" +
                                      std::to_string(studies.size()) + ")");
        const auto prediction = nsa::PredictStudy(predictor, model, studies[i].path, modality, &program.Progress());
        program.Progress().EndStage();
        const std::string stem = (std::filesystem::path(output) / studies[i].name).string();
        WriteOutputs(prediction, stem + ".nii.gz", extra, parameters);
        std::ostringstream score;
        score.precision(9);
        score << prediction.scores.selected << "\n";
        // MOOD naming: the score of map <name>.nii.gz is <name>.nii.gz.txt.
        nsa::WriteTextFileAtomically(stem + ".nii.gz.txt", score.str());
        program.SetReturnValue("caseScore", prediction.scores.selected);
        program.SetReturnValue("meanScore", prediction.scores.mean);
      }
      folder.Keep();
      return;
    }
    if (program.IsSet("shard"))
    {
      throw nsa::ParameterError("--shard splits a folder of studies; '" + input + "' is one study (give a folder and an "
                                                                                   "output folder)");
    }
    program.Progress().StartStage("Predicting");
    const auto prediction =
      nsa::PredictStudy(predictor, model, input, modality, &program.Progress());
    program.Progress().EndStage();
    const std::string & mapPath = output;
    if (prediction.study.metadata.isDicom && extra.segmentation.empty() && extra.parametricMap.empty())
    {
      // A DICOM study gets DICOM results beside the map unless asked otherwise.
      extra.segmentation = Stem(mapPath) + "_seg.dcm";
      extra.parametricMap = Stem(mapPath) + "_pm.dcm";
      nsa::CheckOutputPaths({ { "<inputVolume>", input }, { "--model", program.GetString("model") } },
                            { { "<outputVolume>", mapPath },
                              { "DICOM SEG beside the map", extra.segmentation },
                              { "DICOM Parametric Map beside the map", extra.parametricMap } });
    }
    WriteOutputs(prediction, mapPath, extra, parameters);
    program.SetReturnValue("caseScore", prediction.scores.selected);
    program.SetReturnValue("meanScore", prediction.scores.mean);
  });
}
