// The model plug-in of NSAEvaluate (see NSAEvaluateModelPlugin.h): a CasePredictor that reads
// a case's study, normalises and predicts it with the Learning module's nsa::PredictStudy, and
// saves the map and case score in MOOD naming.
#include "NSAEvaluateModelPlugin.h"

#include "nsaAtomicOutput.h"
#include "nsaImageIO.h"
#include "nsaStudyPipeline.h"

#include <filesystem>
#include <iomanip>
#include <memory>
#include <mutex>
#include <sstream>

extern "C" __attribute__((visibility("default"))) void
NSAEvaluateMakeModelPredictor(const nsa::ModelPredictorRequest & request, nsa::ModelPredictorResult & result)
{
  try
  {
    namespace fs = std::filesystem;
    struct Shared
    {
      explicit Shared(nsa::Model loaded)
        : model(std::move(loaded))
      {}
      nsa::Model                      model;
      std::unique_ptr<nsa::Predictor> predictor;
      std::mutex                      network;
    };
    auto shared = std::make_shared<Shared>(nsa::Model::Load(request.model));
    nsa::PredictionParameters parameters = shared->model.GetDescription().prediction;
    if (!request.device.empty())
    {
      parameters.device = request.device;
    }
    shared->predictor = std::make_unique<nsa::Predictor>(shared->model, parameters);
    const fs::path folder = request.folder;
    fs::create_directories(folder);
    // One case at a time goes through the shared network (LibTorch parallelises inside the
    // forward pass); reading, evaluating and writing other cases continue on the workers.
    const std::string caseScore = nsa::ToString(parameters.case_score);
    result.predictor = [shared, folder, source = "model " + caseScore](const nsa::EvaluationCase & c) {
      nsa::StudyPrediction study;
      {
        std::lock_guard<std::mutex> lock(shared->network);
        study = nsa::PredictStudy(*shared->predictor, shared->model, c.image);
      }
      nsa::CasePrediction prediction;
      prediction.map = study.map;
      prediction.score = study.scores.selected;
      prediction.scoreSource = source;
      prediction.mapPath = (folder / (c.caseId + ".nii.gz")).string();
      nsa::WriteImage(study.map.GetPointer(), prediction.mapPath);
      std::ostringstream score;
      score << std::setprecision(17) << *prediction.score << '\n';
      nsa::WriteTextFileAtomically((folder / (c.caseId + ".txt")).string(), score.str());
      return prediction;
    };
  }
  catch (const std::exception & e)
  {
    result.error = e.what();
  }
}
