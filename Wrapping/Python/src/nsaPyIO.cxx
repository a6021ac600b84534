// Python bindings of the IO module: images by path, with their geometry.
#include "nsaPyArray.h"
#include "nsaPyModule.h"

#include "nsaImageIO.h"

#include <pybind11/stl.h>

namespace py = pybind11;

namespace nsa::python
{

namespace
{

template <typename TImage>
py::dict
ImageToDict(typename TImage::Pointer image)
{
  constexpr unsigned int D = TImage::ImageDimension;
  std::vector<double>    spacing(D), origin(D);
  std::vector<std::vector<double>> direction(D, std::vector<double>(D));
  for (unsigned int d = 0; d < D; ++d)
  {
    spacing[D - 1 - d] = image->GetSpacing()[d];
    origin[d] = image->GetOrigin()[d];
    for (unsigned int e = 0; e < D; ++e)
    {
      direction[d][e] = image->GetDirection()[d][e];
    }
  }
  py::dict result;
  result["array"] = ImageToArray<TImage>(image);
  result["spacing"] = spacing;
  result["origin"] = origin;
  result["direction"] = direction;
  return result;
}

template <typename TPixel, unsigned int D>
void
Write(const CArray<TPixel> &                                   array,
      const std::string &                                      path,
      const std::optional<std::vector<double>> &               spacing,
      const std::optional<std::vector<double>> &               origin,
      const std::optional<std::vector<std::vector<double>>> &  direction,
      bool                                                     compress)
{
  auto image = WrapArray<TPixel, D>(array, SpacingFromPython<D>(spacing), "array");
  if (origin)
  {
    if (origin->size() != D)
    {
      throw ParameterError("origin: expected " + std::to_string(D) + " values (x, y[, z])");
    }
    typename itk::Image<TPixel, D>::PointType point;
    for (unsigned int d = 0; d < D; ++d)
    {
      point[d] = (*origin)[d];
    }
    image->SetOrigin(point);
  }
  if (direction)
  {
    typename itk::Image<TPixel, D>::DirectionType matrix;
    if (direction->size() != D)
    {
      throw ParameterError("direction: expected a " + std::to_string(D) + "x" + std::to_string(D) + " matrix");
    }
    for (unsigned int d = 0; d < D; ++d)
    {
      if ((*direction)[d].size() != D)
      {
        throw ParameterError("direction: expected a " + std::to_string(D) + "x" + std::to_string(D) + " matrix");
      }
      for (unsigned int e = 0; e < D; ++e)
      {
        matrix[d][e] = (*direction)[d][e];
      }
    }
    image->SetDirection(matrix);
  }
  py::gil_scoped_release release;
  WriteImage<itk::Image<TPixel, D>>(image, path, compress);
}

} // namespace

void
RegisterIO(py::module_ & module)
{
  module.def(
    "_read_image",
    [](const std::string & path, const std::string & seriesUid, bool allowNonFinite) -> py::dict {
      ReadImageOptions options;
      options.seriesInstanceUid = seriesUid;
      options.allowNonFinite = allowNonFinite;
      const ImageFileInfo info = ReadImageInfo(path);
      if (info.dimension == 2)
      {
        itk::Image<float, 2>::Pointer image;
        {
          py::gil_scoped_release release;
          image = ReadImage<itk::Image<float, 2>>(path, options);
        }
        return ImageToDict<itk::Image<float, 2>>(image);
      }
      itk::Image<float, 3>::Pointer image;
      {
        py::gil_scoped_release release;
        image = ReadImage<itk::Image<float, 3>>(path, options);
      }
      return ImageToDict<itk::Image<float, 3>>(image);
    },
    py::arg("path"),
    py::arg("series_uid") = "",
    py::arg("allow_non_finite") = false);

  module.def(
    "_write_image",
    [](const py::array &                                       array,
       const std::string &                                     path,
       const std::optional<std::vector<double>> &              spacing,
       const std::optional<std::vector<double>> &              origin,
       const std::optional<std::vector<std::vector<double>>> & direction,
       bool                                                    compress) {
      const bool mask = py::dtype::of<std::uint8_t>().is(array.dtype()) || array.dtype().kind() == 'b';
      switch (array.ndim())
      {
        case 2:
          mask ? Write<std::uint8_t, 2>(array, path, spacing, origin, direction, compress)
               : Write<float, 2>(array, path, spacing, origin, direction, compress);
          break;
        case 3:
          mask ? Write<std::uint8_t, 3>(array, path, spacing, origin, direction, compress)
               : Write<float, 3>(array, path, spacing, origin, direction, compress);
          break;
        default:
          throw InputError("array: expected a 2D or 3D array, got " + std::to_string(array.ndim()) + "D");
      }
    },
    py::arg("array"),
    py::arg("path"),
    py::arg("spacing") = py::none(),
    py::arg("origin") = py::none(),
    py::arg("direction") = py::none(),
    py::arg("compress") = true);
}

} // namespace nsa::python
