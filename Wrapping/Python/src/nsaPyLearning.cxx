// Python bindings of the Learning module, in their own extension (_nsalearning) so that
// importing nsatoolkit for synthesis or metrics does not load LibTorch.
#include "nsaParameterJson.h"
#include "nsaPyArray.h"
#include "nsaPyModule.h"

#include "nsaJsonText.h"

#include "nsaModel.h"
#include "nsaNormalisation.h"
#include "nsaPredictor.h"
#include "nsaStudyPipeline.h"

#include <pybind11/stl.h>

namespace py = pybind11;

namespace nsa::python
{

namespace
{

py::dict
ScoresToDict(const CaseScores & scores)
{
  py::dict result;
  result["mean"] = scores.mean;
  result["percentile"] = scores.percentile;
  result["top_k_mean"] = scores.top_k_mean;
  result["selected"] = scores.selected;
  return result;
}

/** \class PythonModel
 * \brief A loaded model with prediction settings, as seen from Python. */
class PythonModel
{
public:
  PythonModel(const std::string & path, const std::string & overridesJson)
    : m_Model(Model::Load(path))
    , m_Parameters(m_Model.GetDescription().prediction)
  {
    if (!overridesJson.empty())
    {
      UpdateFromJson(m_Parameters, ParseJsonText(overridesJson, "prediction"), "prediction");
    }
    m_Predictor = std::make_unique<Predictor>(m_Model, m_Parameters);
  }

  std::string
  DescriptionJson() const
  {
    return m_Model.GetDescription().ToJson().dump();
  }

  /** Normalises with the model's saved normalisation, predicts, scores. */
  template <unsigned int D>
  py::tuple
  Predict(const CArray<float> & array, const std::optional<std::vector<double>> & spacing) const
  {
    using ImageType = itk::Image<float, D>;
    typename ImageType::Pointer map;
    CaseScores                  scores;
    {
      py::gil_scoped_release release;
      const auto image = WrapArray<float, D>(array, SpacingFromPython<D>(spacing), "image");
      RequireFinite(array, "image");
      const auto normalised = Normalise<ImageType>(image, m_Model.GetDescription().normalisation);
      // As a volume (a 2D image: one slice), so that the model's spacing and score mask apply
      // exactly as in NSAPredict.
      using VolumeType = itk::Image<float, 3>;
      auto                   volume = VolumeType::New();
      VolumeType::SizeType    size;
      VolumeType::SpacingType volumeSpacing;
      size.Fill(1);
      volumeSpacing.Fill(1.0);
      for (unsigned int a = 0; a < D; ++a)
      {
        size[a] = normalised->GetLargestPossibleRegion().GetSize()[a];
        volumeSpacing[a] = normalised->GetSpacing()[a];
      }
      volume->SetRegions(VolumeType::RegionType(size));
      volume->SetSpacing(volumeSpacing);
      volume->Allocate();
      const std::size_t count = normalised->GetLargestPossibleRegion().GetNumberOfPixels();
      std::copy_n(normalised->GetBufferPointer(), count, volume->GetBufferPointer());
      const StudyPrediction prediction = PredictNormalised(*m_Predictor, m_Model, volume.GetPointer());
      map = ImageType::New();
      map->CopyInformation(normalised);
      map->SetRegions(normalised->GetLargestPossibleRegion());
      map->Allocate();
      std::copy_n(prediction.map->GetBufferPointer(), count, map->GetBufferPointer());
      scores = prediction.scores;
    }
    return py::make_tuple(ImageToArray<ImageType>(map), ScoresToDict(scores));
  }

  py::tuple
  PredictFile(const std::string & path, const std::string & modality) const
  {
    StudyPrediction prediction;
    {
      py::gil_scoped_release release;
      prediction = PredictStudy(*m_Predictor, m_Model, path, modality);
    }
    return py::make_tuple(ImageToArray<itk::Image<float, 3>>(prediction.map), ScoresToDict(prediction.scores));
  }

private:
  Model                      m_Model;
  PredictionParameters       m_Parameters;
  std::unique_ptr<Predictor> m_Predictor;
};

} // namespace

} // namespace nsa::python

PYBIND11_MODULE(_nsalearning, module)
{
  using nsa::python::PythonModel;
  module.doc() = "NSA Toolkit: the Learning module (LibTorch) from Python";
  nsa::python::RegisterExceptionTranslator();
  py::class_<PythonModel>(module, "Model")
    .def(py::init<const std::string &, const std::string &>(), py::arg("path"), py::arg("overrides_json") = "")
    .def("description_json", &PythonModel::DescriptionJson)
    .def(
      "predict",
      [](const PythonModel & self, const nsa::python::CArray<float> & array,
         const std::optional<std::vector<double>> & spacing) {
        switch (array.ndim())
        {
          case 2:
            return self.Predict<2>(array, spacing);
          case 3:
            return self.Predict<3>(array, spacing);
          default:
            throw nsa::InputError("image: expected a 2D or 3D array, got " + std::to_string(array.ndim()) + "D");
        }
      },
      py::arg("array"),
      py::arg("spacing") = py::none())
    .def("predict_file", &PythonModel::PredictFile, py::arg("path"), py::arg("modality") = "");
}
