#ifndef nsaStudyPipeline_h
#define nsaStudyPipeline_h

#include "nsaPredictor.h"
#include "nsaStudy.h"
#include "nsaStudyList.h"
#include "nsaTrainer.h"

#include <array>
#include <string>
#include <vector>

namespace nsa
{

/** \file nsaStudyPipeline.h
 * \brief From files to the Learning module and back: what NSATrain and NSAPredict do
 * besides parsing arguments, kept here so that the programs stay thin and the Python
 * wrapping can do the same. */

/** Reads and normalises each study for training (nsa::ReadStudy, nsa::Normalise). */
std::vector<TrainingImage>
LoadTrainingImages(const std::vector<StudyEntry> &  studies,
                   const NormalisationParameters & normalisation,
                   const std::string &             modality = "",
                   ProgressObserver *              progress = nullptr);

/** Reads each study, resamples it to the model's spacing (training.spacing, see
 * ModelSpacing) and normalises it with the description's normalisation. */
std::vector<TrainingImage>
LoadTrainingImages(const std::vector<StudyEntry> & studies,
                   const ModelDescription &        description,
                   const std::string &             modality = "",
                   ProgressObserver *              progress = nullptr);

/** The per-axis spacing (mm, ITK axes x, y, z; 0: keep) a model with `training.spacing`
 * resamples a volume of `size` to: a 3D model's three values; for a 2D model, its two
 * in-plane values on the two axes other than the slice axis (`sliceAxis`, or the axis of
 * size 1 of a 2D image), in increasing order, and 0 on the slice axis. All 0 when the
 * model records no spacing. */
std::array<double, 3>
ModelSpacing(const NetworkParameters & network, const TrainingParameters & training, int sliceAxis,
             const itk::Size<3> & size);

/** \brief A scored study: the study as read (metadata for DICOM outputs), its score map
 * (the study's geometry) and case scores. */
struct StudyPrediction
{
  Study                         study;
  itk::Image<float, 3>::Pointer map;
  CaseScores                    scores;
};

/** Predicts the map of a study already normalised with the model's normalisation: resamples
 * it to the model's spacing (ModelSpacing), runs the predictor, resamples the map back onto
 * the study's exact grid, and with prediction.score_mask "otsu" sets the map to 0 outside
 * the study's Otsu object mask; the case scores are computed over that mask. */
StudyPrediction
PredictNormalised(const Predictor &            predictor,
                  const Model &                model,
                  const itk::Image<float, 3> * normalised,
                  ProgressObserver *           progress = nullptr);

/** Reads a study, normalises it with the model's normalisation and predicts its map and case
 * scores (PredictNormalised). */
StudyPrediction
PredictStudy(const Predictor &           predictor,
             const Model &               model,
             const std::string &         path,
             const std::string &         modality = "",
             ProgressObserver *          progress = nullptr);

/** Number of threads LibTorch uses for the network on the CPU (0 keeps its default). Does
 * nothing when LibTorch already uses that many: at::set_num_threads replaces LibTorch's
 * pthreadpool on every call, and the new pool's threads spin for a while on the CPUs the
 * network needs (issue 17: a benchmark that set the count before every step made the C++
 * step look up to 12 % slower than PyTorch's). */
void
SetNetworkThreads(int threads);

} // namespace nsa

#endif
