#include "nsaStudyPipeline.h"

#include "nsaError.h"
#include "nsaManifest.h"
#include "nsaNormalisation.h"
#include "nsaResampling.h"
#include "nsaSynthesis.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>

namespace nsa
{

namespace
{

namespace fs = std::filesystem;

const char * const ImageExtensions[] = { ".nii.gz", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd",
                                         ".png",    ".dcm", ".ima",  ".img.gz", ".hdr" };

std::string
Lower(std::string text)
{
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

bool
EndsWith(const std::string & text, const std::string & suffix)
{
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool
IsImageFile(const std::string & name)
{
  const std::string lower = Lower(name);
  return std::any_of(std::begin(ImageExtensions), std::end(ImageExtensions), [&](const char * e) {
    return EndsWith(lower, e);
  });
}

} // namespace

std::string
StudyName(const std::string & path)
{
  std::string name = fs::path(path).filename().string();
  if (name.empty())
  {
    name = fs::path(path).parent_path().filename().string(); // "folder/"
  }
  const std::string lower = Lower(name);
  for (const char * extension : ImageExtensions)
  {
    if (EndsWith(lower, extension) && lower.size() > std::string(extension).size())
    {
      return name.substr(0, name.size() - std::string(extension).size());
    }
  }
  return name;
}

std::vector<StudyEntry>
ListStudies(const std::string & source)
{
  std::error_code error;
  if (!fs::exists(source, error))
  {
    throw InputError("'" + source + "': no such file or folder");
  }
  std::vector<StudyEntry> studies;
  const std::string       lower = Lower(source);
  if (fs::is_directory(source, error))
  {
    for (const auto & entry : fs::directory_iterator(source))
    {
      const std::string name = entry.path().filename().string();
      if (name.empty() || name[0] == '.')
      {
        continue;
      }
      if (entry.is_directory() || IsImageFile(name))
      {
        studies.push_back({ StudyName(entry.path().string()), entry.path().string() });
      }
    }
    std::sort(studies.begin(), studies.end(), [](const StudyEntry & a, const StudyEntry & b) {
      return a.path < b.path;
    });
  }
  else if (EndsWith(lower, ".csv"))
  {
    for (const auto & entry : ReadManifest(source))
    {
      studies.push_back({ entry.caseId, entry.image });
    }
  }
  else if (EndsWith(lower, ".txt") || EndsWith(lower, ".lst"))
  {
    std::ifstream     list(source);
    std::string       line;
    const fs::path    base = fs::path(source).parent_path();
    unsigned int      number = 0;
    while (std::getline(list, line))
    {
      ++number;
      line.erase(0, line.find_first_not_of(" \t\r"));
      line.erase(line.find_last_not_of(" \t\r") + 1);
      if (line.empty() || line[0] == '#')
      {
        continue;
      }
      fs::path path(line);
      if (path.is_relative())
      {
        path = base / path;
      }
      if (!fs::exists(path, error))
      {
        throw InputError("'" + source + "' line " + std::to_string(number) + ": '" + path.string() +
                         "' does not exist");
      }
      studies.push_back({ StudyName(path.string()), path.string() });
    }
  }
  else if (IsImageFile(source))
  {
    studies.push_back({ StudyName(source), source });
  }
  else
  {
    throw InputError("'" + source + "': expected a folder, a list file (.txt, .lst), a manifest (.csv) or an image");
  }
  if (studies.empty())
  {
    throw InputError("'" + source + "': lists no study");
  }
  return studies;
}

std::vector<TrainingImage>
LoadTrainingImages(const std::vector<StudyEntry> &  studies,
                   const NormalisationParameters & normalisation,
                   const std::string &             modality,
                   ProgressObserver *              progress)
{
  NullProgress nullProgress;
  if (progress == nullptr)
  {
    progress = &nullProgress;
  }
  ReadStudyOptions options;
  options.modality = modality;
  std::vector<TrainingImage> images;
  progress->StartStage("Reading training images");
  for (std::size_t i = 0; i < studies.size(); ++i)
  {
    const Study study = ReadStudy(studies[i].path, options);
    images.push_back({ Normalise<itk::Image<float, 3>>(study.image, normalisation), nullptr, studies[i].name });
    progress->Report(static_cast<double>(i + 1) / studies.size());
  }
  progress->EndStage();
  return images;
}

std::array<double, 3>
ModelSpacing(const TrainingParameters & training, int sliceAxis, const itk::Size<3> & size)
{
  std::array<double, 3> spacing{ 0.0, 0.0, 0.0 };
  if (training.spacing.empty())
  {
    return spacing;
  }
  if (training.dimension == 3)
  {
    for (unsigned int a = 0; a < 3; ++a)
    {
      spacing[a] = training.spacing.at(a);
    }
    return spacing;
  }
  int axis = sliceAxis;
  if (size[axis] != 1 && (size[0] == 1 || size[1] == 1 || size[2] == 1))
  {
    axis = size[2] == 1 ? 2 : (size[1] == 1 ? 1 : 0);
  }
  std::size_t k = 0;
  for (int a = 0; a < 3; ++a)
  {
    if (a != axis)
    {
      spacing[a] = training.spacing.at(k++);
    }
  }
  return spacing;
}

std::vector<TrainingImage>
LoadTrainingImages(const std::vector<StudyEntry> & studies,
                   const ModelDescription &        description,
                   const std::string &             modality,
                   ProgressObserver *              progress)
{
  NullProgress nullProgress;
  if (progress == nullptr)
  {
    progress = &nullProgress;
  }
  ReadStudyOptions options;
  options.modality = modality;
  std::vector<TrainingImage> images;
  progress->StartStage("Reading training images");
  for (std::size_t i = 0; i < studies.size(); ++i)
  {
    const Study study = ReadStudy(studies[i].path, options);
    const auto  spacing = ModelSpacing(
      description.training, description.training.slice_axis, study.image->GetLargestPossibleRegion().GetSize());
    const auto resampled = ResampleToSpacing(study.image.GetPointer(), spacing);
    images.push_back(
      { Normalise<itk::Image<float, 3>>(resampled.GetPointer(), description.normalisation), nullptr, studies[i].name });
    progress->Report(static_cast<double>(i + 1) / studies.size());
  }
  progress->EndStage();
  return images;
}

StudyPrediction
PredictNormalised(const Predictor &            predictor,
                  const Model &                model,
                  const itk::Image<float, 3> * normalised,
                  ProgressObserver *           progress)
{
  const ModelDescription & description = model.GetDescription();
  const auto               size = normalised->GetLargestPossibleRegion().GetSize();
  const auto spacing = ModelSpacing(description.training, predictor.GetParameters().slice_axis, size);
  const auto resampled = ResampleToSpacing(normalised, spacing);
  StudyPrediction result;
  result.map = predictor.Predict(resampled.GetPointer(), progress);
  if (resampled.GetPointer() != normalised)
  {
    result.map = ResampleOnto(result.map.GetPointer(), normalised);
  }
  itk::Image<unsigned char, 3>::Pointer mask;
  if (predictor.GetParameters().score_mask == "otsu")
  {
    SynthesisParameters otsu = description.synthesis;
    otsu.object_mask = "otsu";
    mask = ComputeObjectMask<3>(normalised, otsu);
    bool any = false;
    auto * values = result.map->GetBufferPointer();
    const auto * inside = mask->GetBufferPointer();
    const std::size_t n = result.map->GetLargestPossibleRegion().GetNumberOfPixels();
    for (std::size_t i = 0; i < n; ++i)
    {
      if (inside[i] == 0)
      {
        values[i] = 0.0f;
      }
      else
      {
        any = true;
      }
    }
    if (!any)
    {
      mask = nullptr; // a constant study has no object: score the whole map
    }
  }
  result.scores = ComputeCaseScores(result.map.GetPointer(), predictor.GetParameters(), mask.GetPointer());
  return result;
}

StudyPrediction
PredictStudy(const Predictor &   predictor,
             const Model &       model,
             const std::string & path,
             const std::string & modality,
             ProgressObserver *  progress)
{
  ReadStudyOptions options;
  options.modality = modality;
  const Study study = ReadStudy(path, options);
  const auto  normalised = Normalise<itk::Image<float, 3>>(study.image, model.GetDescription().normalisation);
  StudyPrediction result = PredictNormalised(predictor, model, normalised.GetPointer(), progress);
  result.study = study;
  return result;
}

} // namespace nsa
