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
ModelSpacing(const NetworkParameters & network, const TrainingParameters & training, int sliceAxis,
             const itk::Size<3> & size)
{
  std::array<double, 3> spacing{ 0.0, 0.0, 0.0 };
  if (training.spacing.empty())
  {
    return spacing;
  }
  if (network.dimension == 3)
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
    const auto  spacing = ModelSpacing(description.network,
                                      description.training,
                                      SliceAxisOf(study.image.GetPointer(), description.training.slice_axis),
                                      study.image->GetLargestPossibleRegion().GetSize());
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
  const auto spacing = ModelSpacing(
    description.network, description.training, SliceAxisOf(normalised, predictor.GetParameters().slice_axis), size);
  const auto resampled = ResampleToSpacing(normalised, spacing);
  StudyPrediction result;
  result.map = predictor.Predict(resampled.GetPointer(), progress);
  if (resampled.GetPointer() != normalised)
  {
    result.map = ResampleOnto(result.map.GetPointer(), normalised);
  }
  itk::Image<unsigned char, 3>::Pointer mask;
  if (predictor.GetParameters().score_mask == ScoreMask::Otsu)
  {
    SynthesisParameters otsu = description.synthesis;
    otsu.object_mask = ObjectMask::Otsu;
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
