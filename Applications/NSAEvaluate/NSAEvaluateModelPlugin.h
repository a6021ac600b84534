#ifndef NSAEvaluateModelPlugin_h
#define NSAEvaluateModelPlugin_h

// The interface between NSAEvaluate and its model plug-in (libNSAEvaluateModel.so). The
// plug-in links LibTorch through the Learning module; NSAEvaluate loads it with dlopen only
// for --model, so that the program starts instantly otherwise (Slicer queries --xml of every
// module at start-up, cohort scripts call the program once per run).

#include "nsaPredictionEvaluation.h"

#include <string>

namespace nsa
{

/** \brief What the plug-in needs to build a predictor. */
struct ModelPredictorRequest
{
  std::string model;  ///< model file of NSATrain
  std::string device; ///< empty: the model's prediction setting
  std::string folder; ///< where each case's map (<case>.nii.gz) and score (<case>.txt) are saved
};

/** \brief What the plug-in returns: the predictor, or an error message. */
struct ModelPredictorResult
{
  CasePredictor predictor;
  std::string   error;
};

} // namespace nsa

/** The plug-in's entry point, looked up by this name. */
#define NSA_EVALUATE_MODEL_ENTRY_POINT "NSAEvaluateMakeModelPredictor"
extern "C" using NSAEvaluateMakeModelPredictorFunction = void (*)(const nsa::ModelPredictorRequest &,
                                                                  nsa::ModelPredictorResult &);

#endif
