// Tests of itk::PoissonBlendImageFilter and of the DST-based nsa::PoissonSolver under it.
//
// References are computed here in float64 with a plain (unpreconditioned) conjugate gradient
// on small grids, from the discrete equations of Pérez et al. (2003) written out directly, so
// they share neither the solver nor the guidance code with the filter.

#include "itkPoissonBlendImageFilter.h"
#include "nsaError.h"
#include "nsaPoissonSolver.h"

#include "itkImageRegionConstIteratorWithIndex.h"
#include "itkMultiThreaderBase.h"
#include "itkTestingHashImageFilter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace
{

using Image2 = itk::Image<float, 2>;
using Image3 = itk::Image<float, 3>;
using VectorImage2 = itk::VectorImage<float, 2>;
using VectorImage3 = itk::VectorImage<float, 3>;
using Mask2 = itk::Image<unsigned char, 2>;
using Mask3 = itk::Image<unsigned char, 3>;

// Deterministic texture in [-1, 1]: no random engine, so the inputs are the same everywhere.
double
Texture(double x, double y, double z, double seed)
{
  const double v = std::sin(12.9898 * x + 78.233 * y + 37.719 * z + seed) * 43758.5453;
  return 2.0 * (v - std::floor(v)) - 1.0;
}

/** Image of the given size/spacing/components whose value at (index, component) is value(). */
template <typename TImage>
typename TImage::Pointer
MakeImage(const typename TImage::SizeType &                                    size,
          unsigned int                                                         components,
          const std::function<double(const typename TImage::IndexType &, unsigned int)> & value,
          const std::array<double, TImage::ImageDimension> &                   spacing = {})
{
  auto                           image = TImage::New();
  typename TImage::RegionType    region(size);
  typename TImage::SpacingType   imageSpacing;
  for (unsigned int i = 0; i < TImage::ImageDimension; ++i)
  {
    imageSpacing[i] = spacing[i] > 0.0 ? spacing[i] : 1.0;
  }
  image->SetRegions(region);
  image->SetSpacing(imageSpacing);
  image->SetNumberOfComponentsPerPixel(components);
  image->Allocate();
  auto * buffer = image->GetBufferPointer();
  for (itk::ImageRegionConstIteratorWithIndex<TImage> it(image, region); !it.IsAtEnd(); ++it)
  {
    const auto offset = image->ComputeOffset(it.GetIndex());
    for (unsigned int c = 0; c < components; ++c)
    {
      buffer[offset * components + c] = static_cast<float>(value(it.GetIndex(), c));
    }
  }
  return image;
}

template <typename TMask>
typename TMask::Pointer
MakeMask(const typename TMask::SizeType & size, const std::function<bool(const typename TMask::IndexType &)> & inside)
{
  return MakeImage<TMask>(size, 1, [&](const typename TMask::IndexType & index, unsigned int) {
    return inside(index) ? 1.0 : 0.0;
  });
}

/** Ellipse / ellipsoid with the given centre and radii (voxels). */
template <unsigned int VDimension>
std::function<bool(const itk::Index<VDimension> &)>
Ellipsoid(std::array<double, VDimension> centre, std::array<double, VDimension> radii)
{
  return [=](const itk::Index<VDimension> & index) {
    double r = 0.0;
    for (unsigned int i = 0; i < VDimension; ++i)
    {
      const double d = (static_cast<double>(index[i]) - centre[i]) / radii[i];
      r += d * d;
    }
    return r <= 1.0;
  };
}

template <typename TImage>
typename TImage::Pointer
Blend(const TImage *                                                     destination,
      const TImage *                                                     source,
      const itk::Image<unsigned char, TImage::ImageDimension> *          mask,
      const std::function<void(itk::PoissonBlendImageFilter<TImage> *)> & configure = {})
{
  auto filter = itk::PoissonBlendImageFilter<TImage>::New();
  filter->SetDestinationImage(destination);
  filter->SetSourceImage(source);
  filter->SetMaskImage(mask);
  if (configure)
  {
    configure(filter);
  }
  filter->Update();
  typename TImage::Pointer output = filter->GetOutput();
  output->DisconnectPipeline();
  return output;
}

template <typename TImage>
std::string
Hash(const TImage * image)
{
  auto hasher = itk::Testing::HashImageFilter<TImage>::New();
  hasher->SetInput(image);
  hasher->InPlaceOff();
  hasher->Update();
  return hasher->GetHash();
}

/** The image's values as float64 arrays, one per component, x fastest. */
template <typename TImage>
std::vector<std::vector<double>>
Values(const TImage * image)
{
  const unsigned int components = image->GetNumberOfComponentsPerPixel();
  const size_t       count = image->GetLargestPossibleRegion().GetNumberOfPixels();
  std::vector<std::vector<double>> values(components, std::vector<double>(count));
  const auto *                     buffer = image->GetBufferPointer();
  for (size_t j = 0; j < count; ++j)
  {
    for (unsigned int c = 0; c < components; ++c)
    {
      values[c][j] = buffer[j * components + c];
    }
  }
  return values;
}

/** The discrete Poisson problem of Pérez et al. Eq. (7) on a whole image grid, in float64. */
struct PoissonSystem
{
  std::vector<size_t>              Size;
  std::vector<size_t>              Stride;
  std::vector<double>              Weights;
  std::vector<unsigned char>       Unknown; // per voxel
  std::vector<std::vector<double>> Rhs;     // per component, per voxel (0 where not unknown)
  std::vector<std::vector<double>> Destination;

  /** (A x)_p for unknown p, where x holds the values of all voxels (known ones included):
   * the full stencil sum_i w_i (2 x_p - x_{p-e_i} - x_{p+e_i}). */
  double
  Stencil(const std::vector<double> & x, size_t p) const
  {
    double value = 0.0;
    for (size_t i = 0; i < Size.size(); ++i)
    {
      value += Weights[i] * (2.0 * x[p] - x[p - Stride[i]] - x[p + Stride[i]]);
    }
    return value;
  }
};

enum class Rule
{
  Source,
  Mixed
};

/** Builds the system: the unknowns (mask, or its bounding box when box is true) and b = sum of
 * guidance differences; Dirichlet values are kept in Destination (not folded into b). */
PoissonSystem
BuildSystem(const std::vector<size_t> &              size,
            const std::vector<double> &              weights,
            const std::vector<unsigned char> &       mask,
            const std::vector<std::vector<double>> & destination,
            const std::vector<std::vector<double>> & source,
            Rule                                     rule,
            double                                   f,
            bool                                     box)
{
  PoissonSystem system;
  system.Size = size;
  system.Weights = weights;
  system.Destination = destination;
  system.Stride.assign(size.size(), 1);
  for (size_t i = 1; i < size.size(); ++i)
  {
    system.Stride[i] = system.Stride[i - 1] * size[i - 1];
  }
  const size_t count = mask.size();
  system.Unknown = mask;
  if (box)
  {
    std::vector<size_t> lower(size.size(), std::numeric_limits<size_t>::max());
    std::vector<size_t> upper(size.size(), 0);
    for (size_t p = 0; p < count; ++p)
    {
      if (mask[p])
      {
        for (size_t i = 0; i < size.size(); ++i)
        {
          const size_t coordinate = (p / system.Stride[i]) % size[i];
          lower[i] = std::min(lower[i], coordinate);
          upper[i] = std::max(upper[i], coordinate);
        }
      }
    }
    for (size_t p = 0; p < count; ++p)
    {
      bool inside = true;
      for (size_t i = 0; i < size.size(); ++i)
      {
        const size_t coordinate = (p / system.Stride[i]) % size[i];
        inside = inside && coordinate >= lower[i] && coordinate <= upper[i];
      }
      system.Unknown[p] = inside;
    }
  }
  const size_t components = destination.size();
  system.Rhs.assign(components, std::vector<double>(count, 0.0));
  for (size_t p = 0; p < count; ++p)
  {
    if (!system.Unknown[p])
    {
      continue;
    }
    for (size_t i = 0; i < size.size(); ++i)
    {
      for (const size_t q : { p - system.Stride[i], p + system.Stride[i] })
      {
        double sourceNorm = 0.0;
        double destinationNorm = 0.0;
        for (size_t c = 0; c < components; ++c)
        {
          sourceNorm += std::abs(source[c][p] - source[c][q]);
          destinationNorm += std::abs(destination[c][p] - destination[c][q]);
        }
        const bool guided = !box || mask[p] || mask[q];
        for (size_t c = 0; c < components; ++c)
        {
          const double dd = destination[c][p] - destination[c][q];
          double       foreground = source[c][p] - source[c][q];
          if (rule == Rule::Mixed && destinationNorm > sourceNorm)
          {
            foreground = dd;
          }
          system.Rhs[c][p] += weights[i] * (guided ? f * foreground + (1.0 - f) * dd : dd);
        }
      }
    }
  }
  return system;
}

/** Plain conjugate gradient in float64 on the unknowns; returns all voxels (destination outside). */
std::vector<std::vector<double>>
ReferenceSolve(const PoissonSystem & system)
{
  const size_t                     count = system.Unknown.size();
  std::vector<std::vector<double>> result = system.Destination;
  for (size_t c = 0; c < result.size(); ++c)
  {
    // Homogeneous form: A y = b - A_boundary d, with y = 0 outside the unknowns.
    std::vector<double> known = system.Destination[c];
    for (size_t p = 0; p < count; ++p)
    {
      if (system.Unknown[p])
      {
        known[p] = 0.0;
      }
    }
    std::vector<double> b(count, 0.0);
    for (size_t p = 0; p < count; ++p)
    {
      if (system.Unknown[p])
      {
        b[p] = system.Rhs[c][p] - system.Stencil(known, p);
      }
    }
    auto apply = [&](const std::vector<double> & v, std::vector<double> & out) {
      for (size_t p = 0; p < count; ++p)
      {
        out[p] = system.Unknown[p] ? system.Stencil(v, p) : 0.0;
      }
    };
    std::vector<double> x(count, 0.0);
    std::vector<double> r = b;
    std::vector<double> d = r;
    std::vector<double> q(count, 0.0);
    auto                dot = [](const std::vector<double> & u, const std::vector<double> & v) {
      double s = 0.0;
      for (size_t j = 0; j < u.size(); ++j)
      {
        s += u[j] * v[j];
      }
      return s;
    };
    double       rr = dot(r, r);
    const double bb = dot(b, b);
    for (int iteration = 0; iteration < 20000 && rr > 1e-28 * bb; ++iteration)
    {
      apply(d, q);
      const double alpha = rr / dot(d, q);
      for (size_t p = 0; p < count; ++p)
      {
        x[p] += alpha * d[p];
        r[p] -= alpha * q[p];
      }
      const double rrNew = dot(r, r);
      for (size_t p = 0; p < count; ++p)
      {
        d[p] = r[p] + rrNew / rr * d[p];
      }
      rr = rrNew;
    }
    for (size_t p = 0; p < count; ++p)
    {
      if (system.Unknown[p])
      {
        result[c][p] = x[p];
      }
    }
  }
  return result;
}

/** ||b - A x|| / ||b|| over the unknowns, b including the Dirichlet terms, for output x. */
double
RelativeResidual(const PoissonSystem & system, const std::vector<std::vector<double>> & output)
{
  double residual2 = 0.0;
  double rhs2 = 0.0;
  for (size_t c = 0; c < output.size(); ++c)
  {
    std::vector<double> known = system.Destination[c];
    for (size_t p = 0; p < known.size(); ++p)
    {
      if (system.Unknown[p])
      {
        known[p] = 0.0;
      }
    }
    for (size_t p = 0; p < known.size(); ++p)
    {
      if (system.Unknown[p])
      {
        const double b = system.Rhs[c][p] - system.Stencil(known, p);
        const double r = system.Rhs[c][p] - system.Stencil(output[c], p);
        residual2 += r * r;
        rhs2 += b * b;
      }
    }
  }
  return std::sqrt(residual2 / rhs2);
}

template <typename TImage>
std::vector<unsigned char>
MaskValues(const TImage * mask)
{
  std::vector<unsigned char> values;
  const auto                 all = Values(mask);
  for (const double v : all[0])
  {
    values.push_back(v != 0.0);
  }
  return values;
}

double
MaxAbsDifference(const std::vector<std::vector<double>> & a, const std::vector<std::vector<double>> & b)
{
  double difference = 0.0;
  for (size_t c = 0; c < a.size(); ++c)
  {
    for (size_t j = 0; j < a[c].size(); ++j)
    {
      difference = std::max(difference, std::abs(a[c][j] - b[c][j]));
    }
  }
  return difference;
}

double
MaxAbs(const std::vector<std::vector<double>> & a)
{
  double m = 0.0;
  for (const auto & component : a)
  {
    for (const double v : component)
    {
      m = std::max(m, std::abs(v));
    }
  }
  return m;
}

// 2D test scene: 48 x 40 image, ellipse mask radii 14 x 10, intensities around 100 (MR-like).
const Image2::SizeType kSize2{ { 48, 40 } };
const Mask3::SizeType  kSize3{ { 20, 18, 16 } };

Image2::Pointer
Destination2(const std::array<double, 2> & spacing = { 1.0, 1.0 })
{
  return MakeImage<Image2>(
    kSize2,
    1,
    [](const Image2::IndexType & i, unsigned int) {
      return 100.0 + 20.0 * std::sin(0.2 * i[0]) * std::cos(0.15 * i[1]) + 5.0 * Texture(i[0], i[1], 0, 1.0);
    },
    spacing);
}

Image2::Pointer
Source2(const std::array<double, 2> & spacing = { 1.0, 1.0 })
{
  return MakeImage<Image2>(
    kSize2,
    1,
    [](const Image2::IndexType & i, unsigned int) {
      return 300.0 + 40.0 * std::cos(0.3 * i[0] + 0.1 * i[1]) + 10.0 * Texture(i[0], i[1], 0, 2.0);
    },
    spacing);
}

Mask2::Pointer
EllipseMask2(const std::array<double, 2> & spacing = { 1.0, 1.0 })
{
  auto mask = MakeMask<Mask2>(kSize2, Ellipsoid<2>({ 23.5, 19.0 }, { 14.0, 10.0 }));
  mask->SetSpacing(spacing.data());
  return mask;
}

/** The filter's output must match the float64 reference up to float rounding: the output is
 * rounded to float (2^-24 relative) and solved to RelativeTolerance 1e-10, which on these
 * grids (condition number below 1e3) adds below 1e-7 relative; 1e-6 of the largest value
 * bounds both with margin. */
constexpr double kReferenceTolerance = 1e-6;

template <typename TImage>
void
ExpectMatchesReference(const TImage *                                 output,
                       const PoissonSystem &                          system,
                       const std::vector<std::vector<double>> &       reference)
{
  const auto values = Values(output);
  EXPECT_LE(MaxAbsDifference(values, reference), kReferenceTolerance * MaxAbs(reference));
}

} // namespace

// --- the discrete sine transform and the solver -------------------------------------------

TEST(PoissonBlendImageFilter, DiscreteSineTransformTwiceIsScaledIdentity)
{
  for (const std::vector<size_t> & size : { std::vector<size_t>{ 17 }, { 12, 7 }, { 6, 5, 9 } })
  {
    const nsa::DiscreteSineTransform transform(size);
    auto                             buffer = nsa::DiscreteSineTransform::AllocateBuffer(transform.GetNumberOfElements());
    std::vector<float>               original(transform.GetNumberOfElements());
    for (size_t j = 0; j < original.size(); ++j)
    {
      original[j] = static_cast<float>(Texture(static_cast<double>(j), 0, 0, 3.0));
      buffer[j] = original[j];
    }
    transform.Transform(buffer.get());
    transform.Transform(buffer.get());
    const double scale = transform.GetNormalisationFactor();
    for (size_t j = 0; j < original.size(); ++j)
    {
      // Float FFT rounding: a few ulps times log2(n); values are in [-1, 1].
      EXPECT_NEAR(buffer[j] / scale, original[j], 1e-5);
    }
  }
}

TEST(PoissonBlendImageFilter, DiscreteSineTransformAlgorithmsAgreeWithRealToReal)
{
  // Sizes exercising both algorithms on contiguous (axis 0) and strided axes, odd line counts
  // (a lone line in the last packed pair, partial 4 x 16 matrix blocks), several chunks of 32
  // lines (the in-place DFT leaves outputs where the next chunk needs zeros) and n = 1.
  using Algorithm = nsa::DiscreteSineTransform::AlgorithmEnum;
  const std::vector<std::pair<std::vector<size_t>, size_t>> cases{
    { { 63, 5 }, 1 },     { { 64, 64, 3 }, 2 }, { { 96, 7 }, 2 },  { { 17, 22, 9 }, 3 },
    { { 22, 35, 3 }, 2 }, { { 1, 3 }, 2 },      { { 40 }, 1 },     { { 5, 96, 2 }, 2 },     { { 64, 64, 64 }, 2 }, { { 32, 32, 32 }, 2 },
  };
  for (const Algorithm algorithm : { Algorithm::Automatic, Algorithm::PackedComplexFFT, Algorithm::DenseProduct })
  {
    for (const auto & [size, axes] : cases)
    {
      const nsa::DiscreteSineTransform transform(size, axes, algorithm);
      const nsa::DiscreteSineTransform reference(size, axes, Algorithm::RealToReal);
      const size_t                     count = transform.GetNumberOfElements();
      auto                             a = nsa::DiscreteSineTransform::AllocateBuffer(count);
      auto                             b = nsa::DiscreteSineTransform::AllocateBuffer(count);
      for (size_t j = 0; j < count; ++j)
      {
        a[j] = b[j] = static_cast<float>(Texture(static_cast<double>(j), 0, 0, 3.0));
      }
      // Twice: the second call reuses the per-thread scratch left by the first.
      for (int repeat = 0; repeat < 2; ++repeat)
      {
        transform.Transform(a.get());
        reference.Transform(b.get());
        double largest = 0.0;
        double difference = 0.0;
        for (size_t j = 0; j < count; ++j)
        {
          largest = std::max(largest, std::abs(static_cast<double>(b[j])));
          difference = std::max(difference, std::abs(static_cast<double>(a[j]) - static_cast<double>(b[j])));
        }
        // Float rounding of sums of up to 96 terms per axis in a different order: measured at
        // most 6e-7 of the largest coefficient; 1e-5 leaves a margin of 15.
        EXPECT_LE(difference, 1e-5 * largest) << "size " << ::testing::PrintToString(size) << ", " << axes
                                              << " axes, algorithm " << static_cast<int>(algorithm);
        const double scale = transform.GetNormalisationFactor();
        for (size_t j = 0; j < count; ++j)
        {
          a[j] = static_cast<float>(a[j] / scale * 2.0); // keep magnitudes comparable
          b[j] = a[j];
        }
      }
    }
  }
  EXPECT_TRUE(nsa::DiscreteSineTransform::UsesDenseProduct(96));   // 97 is prime
  EXPECT_TRUE(nsa::DiscreteSineTransform::UsesDenseProduct(22));   // 23 is prime
  EXPECT_FALSE(nsa::DiscreteSineTransform::UsesDenseProduct(127)); // 2(n + 1) = 2^8
  EXPECT_FALSE(nsa::DiscreteSineTransform::UsesDenseProduct(255)); // 2(n + 1) = 2^9
  EXPECT_FALSE(nsa::DiscreteSineTransform::UsesDenseProduct(600)); // beyond the dense range
}

TEST(PoissonBlendImageFilter, MultigridPreconditionerReducesTheResidualFast)
{
  // An inscribed disc in a 128^2 box, white-noise right-hand side, zero start: after 6
  // conjugate-gradient iterations the over-relaxed (omega 1.3) red-black smoother reaches a
  // relative residual of 1.6e-7; plain Gauss-Seidel smoothing reached 7.3e-7, and a cycle
  // that failed to smooth would stall orders of magnitude higher. Bound: 3e-7.
  const size_t               n = 128;
  std::vector<unsigned char> unknowns(n * n);
  std::vector<double>        b(n * n);
  for (size_t j = 0; j < n; ++j)
  {
    for (size_t i = 0; i < n; ++i)
    {
      const double x = (static_cast<double>(i) + 0.5) / static_cast<double>(n) - 0.5;
      const double y = (static_cast<double>(j) + 0.5) / static_cast<double>(n) - 0.5;
      unknowns[j * n + i] = x * x + y * y < 0.25;
      const double noise = std::sin(12.9898 * static_cast<double>(j * n + i)) * 43758.5453;
      b[j * n + i] = noise - std::floor(noise) - 0.5;
    }
  }
  nsa::PoissonSolver::Options options;
  options.RelativeTolerance = 1e-14;
  options.MaximumNumberOfIterations = 6;
  const nsa::PoissonSolver            solver({ n, n }, { 1.0, 1.0 }, unknowns, options);
  std::vector<double>                 x(n * n, 0.0);
  const nsa::PoissonSolver::Report    report = solver.Solve(b.data(), x.data());
  EXPECT_EQ(report.Iterations, 6u);
  EXPECT_LE(report.RelativeResidual, 3e-7);
}

TEST(PoissonBlendImageFilter, FastLengths)
{
  EXPECT_TRUE(nsa::DiscreteSineTransform::IsFastLength(63));  // 64
  EXPECT_FALSE(nsa::DiscreteSineTransform::IsFastLength(64)); // 65 = 5 * 13
  EXPECT_EQ(nsa::DiscreteSineTransform::NextFastLength(64), 69u); // 70 = 2 * 5 * 7
  EXPECT_EQ(nsa::DiscreteSineTransform::NextFastLength(96), 97u); // 98 = 2 * 7^2
  EXPECT_EQ(nsa::DiscreteSineTransform::NextFastLength(256), 269u); // 270 = 2 * 3^3 * 5
}

TEST(PoissonBlendImageFilter, SolverRejectsBadArguments)
{
  EXPECT_THROW(nsa::PoissonSolver({ 4, 4 }, { 1.0 }, std::vector<unsigned char>(16, 1), {}), nsa::Error);
  EXPECT_THROW(nsa::PoissonSolver({ 4, 4 }, { 1.0, 1.0 }, std::vector<unsigned char>(15, 1), {}), nsa::Error);
  EXPECT_THROW(nsa::PoissonSolver({ 4, 4 }, { 1.0, 1.0 }, std::vector<unsigned char>(16, 0), {}), nsa::Error);
  EXPECT_THROW(nsa::PoissonSolver({ 4, 4 }, { 1.0, -1.0 }, std::vector<unsigned char>(16, 1), {}), nsa::Error);
}

// --- the filter ------------------------------------------------------------------------------

TEST(PoissonBlendImageFilter, DefaultsAndPrint)
{
  auto filter = itk::PoissonBlendImageFilter<Image2>::New();
  using Filter = itk::PoissonBlendImageFilter<Image2>;
  EXPECT_EQ(filter->GetGradientMode(), Filter::GradientModeEnum::Source);
  EXPECT_EQ(filter->GetFormulation(), Filter::FormulationEnum::Exact);
  EXPECT_EQ(filter->GetInterpolationFactor(), 1.0);
  EXPECT_FALSE(filter->GetClampOutput());
  EXPECT_TRUE(filter->GetUseImageSpacing());
  filter->SetInterpolationFactor(1.5);
  EXPECT_EQ(filter->GetInterpolationFactor(), 1.0);
  filter->SetInterpolationFactor(-0.5);
  EXPECT_EQ(filter->GetInterpolationFactor(), 0.0);
  std::ostringstream printed;
  filter->Print(printed);
  EXPECT_NE(printed.str().find("GradientMode: source"), std::string::npos);
  EXPECT_NE(printed.str().find("Formulation: exact"), std::string::npos);
}

TEST(PoissonBlendImageFilter, SelfBlendReturnsDestination)
{
  const auto destination = Destination2();
  const auto mask = EllipseMask2();
  const auto values = Values(destination.GetPointer());
  const double range = *std::max_element(values[0].begin(), values[0].end()) -
                       *std::min_element(values[0].begin(), values[0].end());
  using Filter = itk::PoissonBlendImageFilter<Image2>;
  for (const auto mode : { Filter::GradientModeEnum::Source, Filter::GradientModeEnum::Mixed })
  {
    for (const auto formulation : { Filter::FormulationEnum::Exact, Filter::FormulationEnum::Box })
    {
      const auto output = Blend<Image2>(destination, destination, mask, [&](Filter * filter) {
        filter->SetGradientMode(mode);
        filter->SetFormulation(formulation);
      });
      // Issue 8: max abs error <= 1e-4 of the intensity range.
      EXPECT_LE(MaxAbsDifference(Values(output.GetPointer()), values), 1e-4 * range)
        << "mode " << mode << ", formulation " << formulation;
    }
  }
}

TEST(PoissonBlendImageFilter, OutsideMaskBitIdenticalToDestination)
{
  auto destination = Destination2();
  // Values whose bits a float round trip through double would keep but arithmetic would not:
  // a negative zero and a subnormal, far from the mask.
  destination->SetPixel({ { 2, 2 } }, -0.0f);
  destination->SetPixel({ { 45, 37 } }, std::numeric_limits<float>::denorm_min());
  const auto source = Source2();
  const auto mask = EllipseMask2();
  using Filter = itk::PoissonBlendImageFilter<Image2>;
  for (const auto mode : { Filter::GradientModeEnum::Source, Filter::GradientModeEnum::Mixed })
  {
    const auto output = Blend<Image2>(destination, source, mask, [&](Filter * filter) {
      filter->SetGradientMode(mode);
      filter->SetInterpolationFactor(0.7);
      filter->ClampOutputOn();
      filter->SetOutputMinimum(0.0);
      filter->SetOutputMaximum(4095.0);
    });
    size_t changedInside = 0;
    for (itk::ImageRegionConstIteratorWithIndex<Mask2> it(mask, mask->GetLargestPossibleRegion()); !it.IsAtEnd(); ++it)
    {
      const float expected = destination->GetPixel(it.GetIndex());
      const float actual = output->GetPixel(it.GetIndex());
      if (it.Get() == 0)
      {
        EXPECT_EQ(std::memcmp(&expected, &actual, sizeof(float)), 0) << "at " << it.GetIndex();
      }
      else
      {
        changedInside += expected != actual;
      }
    }
    EXPECT_GT(changedInside, 100u); // the blend did something inside
  }
}

TEST(PoissonBlendImageFilter, ResidualOfDiscretePoissonEquation)
{
  using Filter = itk::PoissonBlendImageFilter<Image2>;
  const std::array<double, 2> spacing{ 0.8, 2.5 };
  const auto                  destination = Destination2(spacing);
  const auto                  source = Source2(spacing);
  const auto                  mask = EllipseMask2(spacing);
  for (const auto mode : { Filter::GradientModeEnum::Source, Filter::GradientModeEnum::Mixed })
  {
    unsigned int iterations = 0;
    const auto   output = Blend<Image2>(destination, source, mask, [&](Filter * filter) {
      filter->SetGradientMode(mode);
      filter->SetInterpolationFactor(0.8);
      filter->Update();
      iterations = filter->GetNumberOfIterations();
      EXPECT_LE(filter->GetRelativeResidual(), filter->GetRelativeTolerance());
    });
    const auto system = BuildSystem({ kSize2[0], kSize2[1] },
                                    { 1.0 / (spacing[0] * spacing[0]), 1.0 / (spacing[1] * spacing[1]) },
                                    MaskValues(mask.GetPointer()),
                                    Values(destination.GetPointer()),
                                    Values(source.GetPointer()),
                                    mode == Filter::GradientModeEnum::Mixed ? Rule::Mixed : Rule::Source,
                                    0.8,
                                    false);
    // Issue 8: relative residual <= 1e-5, evaluated in float64 on the float output (the solver
    // stops at 1e-6 before the rounding to float).
    EXPECT_LE(RelativeResidual(system, Values(output.GetPointer())), 1e-5) << "mode " << mode;
    EXPECT_GE(iterations, 1u);
  }
}

TEST(PoissonBlendImageFilter, SourceEqualsDestinationPlusConstant)
{
  const auto destination = Destination2();
  const auto source = MakeImage<Image2>(kSize2, 1, [&](const Image2::IndexType & i, unsigned int) {
    return destination->GetPixel(i) + 250.0;
  });
  const auto output = Blend<Image2>(destination, source, EllipseMask2());
  const auto values = Values(destination.GetPointer());
  const double range = *std::max_element(values[0].begin(), values[0].end()) -
                       *std::min_element(values[0].begin(), values[0].end());
  // Same bound as the self blend (issue 8: 1e-4 of the intensity range); the float source adds
  // its own rounding of 250 + d (2^-24 relative, far below).
  EXPECT_LE(MaxAbsDifference(Values(output.GetPointer()), values), 1e-4 * range);
}

TEST(PoissonBlendImageFilter, LinearRampReproducesItsGradient)
{
  // A linear ramp is discrete-harmonic, so with the ramp as guidance the solution inside the
  // mask is the ramp plus the offset set by the boundary: the destination holds the same ramp
  // shifted by 40 outside the mask and a constant (a hole) inside.
  const auto ramp = [](const Image2::IndexType & i) { return 2.5 * i[0] - 1.5 * i[1]; };
  const auto mask = EllipseMask2();
  const auto destination = MakeImage<Image2>(kSize2, 1, [&](const Image2::IndexType & i, unsigned int) {
    return mask->GetPixel(i) ? 7.0 : ramp(i) + 40.0;
  });
  const auto source = MakeImage<Image2>(kSize2, 1, [&](const Image2::IndexType & i, unsigned int) { return ramp(i); });
  // Source mode only: mixed gradients would rightly keep the destination's jump at the hole's rim.
  {
    const auto output = Blend<Image2>(destination, source, mask, [&](itk::PoissonBlendImageFilter<Image2> * filter) {
      filter->SetRelativeTolerance(1e-10);
    });
    double largestError = 0.0;
    for (itk::ImageRegionConstIteratorWithIndex<Mask2> it(mask, mask->GetLargestPossibleRegion()); !it.IsAtEnd(); ++it)
    {
      if (it.Get())
      {
        const auto   index = it.GetIndex();
        const double dx = output->GetPixel({ { index[0] + 1, index[1] } }) - output->GetPixel(index);
        const double dy = output->GetPixel({ { index[0], index[1] + 1 } }) - output->GetPixel(index);
        largestError = std::max({ largestError, std::abs(dx - 2.5), std::abs(dy + 1.5) });
      }
    }
    // Values up to about 160: two float roundings of 2^-24 * 160 = 1e-5, plus the 1e-10 solve.
    EXPECT_LE(largestError, 1e-4);
  }

  // Into a constant destination the ramp's linear part is absorbed by the Dirichlet boundary
  // (the ramp minus its boundary values is harmonic): the result is that constant.
  const auto flat = MakeImage<Image2>(kSize2, 1, [](const Image2::IndexType &, unsigned int) { return 7.0; });
  const auto output = Blend<Image2>(flat, source, mask);
  EXPECT_LE(MaxAbsDifference(Values(output.GetPointer()), Values(flat.GetPointer())), 1e-4);
}

TEST(PoissonBlendImageFilter, MixedModePicksTheLargerGradient)
{
  // Destination: a strong vertical edge (step of 50) through the mask; source: flat.
  const auto mask = EllipseMask2();
  const auto edge = MakeImage<Image2>(kSize2, 1, [](const Image2::IndexType & i, unsigned int) {
    return i[0] < 24 ? 100.0 : 150.0;
  });
  const auto flat = MakeImage<Image2>(kSize2, 1, [](const Image2::IndexType &, unsigned int) { return 20.0; });
  using Filter = itk::PoissonBlendImageFilter<Image2>;
  const auto mixed = Blend<Image2>(edge, flat, mask, [](Filter * filter) {
    filter->SetGradientMode(Filter::GradientModeEnum::Mixed);
  });
  const auto plain = Blend<Image2>(edge, flat, mask);
  // Mixed keeps the destination's edge (its gradient is the larger one everywhere it is non-zero)...
  EXPECT_LE(MaxAbsDifference(Values(mixed.GetPointer()), Values(edge.GetPointer())), 1e-3);
  // ...source gradients (zero) smooth it away: in the middle of the mask the step is gone.
  EXPECT_LT(plain->GetPixel({ { 24, 19 } }) - plain->GetPixel({ { 23, 19 } }), 10.0);

  // Swapped roles: the edge in the source, a flat destination: the source gradient is never
  // the smaller one, so mixed mode takes it everywhere and equals source mode bit for bit.
  const auto swapped = Blend<Image2>(flat, edge, mask, [](Filter * filter) {
    filter->SetGradientMode(Filter::GradientModeEnum::Mixed);
  });
  EXPECT_EQ(Hash(swapped.GetPointer()), Hash(Blend<Image2>(flat, edge, mask).GetPointer()));
  EXPECT_GT(swapped->GetPixel({ { 24, 19 } }) - swapped->GetPixel({ { 23, 19 } }), 40.0);
}

TEST(PoissonBlendImageFilter, MixedModeSumsMagnitudesOverComponents)
{
  // Along x, component gradients: destination (2, 2), source (3, 0). Summed magnitude 4 > 3, so
  // the destination wins for both components — also for component 0, where alone the source
  // (3) would win. The destination's gradient is consistent with its boundary: output == dest.
  const auto mask = EllipseMask2();
  const auto destination = MakeImage<VectorImage2>(kSize2, 2, [](const Image2::IndexType & i, unsigned int) {
    return 2.0 * i[0];
  });
  const auto source = MakeImage<VectorImage2>(kSize2, 2, [](const Image2::IndexType & i, unsigned int c) {
    return c == 0 ? 3.0 * i[0] : 5.0;
  });
  using Filter = itk::PoissonBlendImageFilter<VectorImage2>;
  const auto output = Blend<VectorImage2>(destination, source, mask, [](Filter * filter) {
    filter->SetGradientMode(Filter::GradientModeEnum::Mixed);
  });
  // Values up to 94: float rounding and the 1e-6 solve tolerance stay far below 1e-3.
  EXPECT_LE(MaxAbsDifference(Values(output.GetPointer()), Values(destination.GetPointer())), 1e-3);

  // Against the float64 reference on a textured pair, where the choice varies per edge.
  const auto texturedDestination = MakeImage<VectorImage2>(kSize2, 3, [](const Image2::IndexType & i, unsigned int c) {
    return 50.0 * Texture(i[0], i[1], c, 5.0);
  });
  const auto texturedSource = MakeImage<VectorImage2>(kSize2, 3, [](const Image2::IndexType & i, unsigned int c) {
    return 60.0 * Texture(i[0], i[1], c, 6.0);
  });
  const auto blended = Blend<VectorImage2>(texturedDestination, texturedSource, mask, [](Filter * filter) {
    filter->SetGradientMode(Filter::GradientModeEnum::Mixed);
    filter->SetRelativeTolerance(1e-10);
  });
  const auto system = BuildSystem({ kSize2[0], kSize2[1] },
                                  { 1.0, 1.0 },
                                  MaskValues(mask.GetPointer()),
                                  Values(texturedDestination.GetPointer()),
                                  Values(texturedSource.GetPointer()),
                                  Rule::Mixed,
                                  1.0,
                                  false);
  ExpectMatchesReference(blended.GetPointer(), system, ReferenceSolve(system));
}

TEST(PoissonBlendImageFilter, AnisotropicSpacingWeightsTheLaplacian)
{
  const std::array<double, 2> spacing{ 1.0, 3.0 };
  const auto                  destination = Destination2(spacing);
  const auto                  source = Source2(spacing);
  const auto                  mask = EllipseMask2(spacing);
  using Filter = itk::PoissonBlendImageFilter<Image2>;
  const auto anisotropic = Blend<Image2>(destination, source, mask, [](Filter * filter) {
    filter->SetRelativeTolerance(1e-10);
  });
  const auto ignoringSpacing = Blend<Image2>(destination, source, mask, [](Filter * filter) {
    filter->SetRelativeTolerance(1e-10);
    filter->UseImageSpacingOff();
  });
  const auto build = [&](std::vector<double> weights) {
    return BuildSystem({ kSize2[0], kSize2[1] },
                       weights,
                       MaskValues(mask.GetPointer()),
                       Values(destination.GetPointer()),
                       Values(source.GetPointer()),
                       Rule::Source,
                       1.0,
                       false);
  };
  const auto weighted = build({ 1.0, 1.0 / 9.0 });
  const auto unweighted = build({ 1.0, 1.0 });
  const auto weightedReference = ReferenceSolve(weighted);
  const auto unweightedReference = ReferenceSolve(unweighted);
  ExpectMatchesReference(anisotropic.GetPointer(), weighted, weightedReference);
  ExpectMatchesReference(ignoringSpacing.GetPointer(), unweighted, unweightedReference);
  // The spacing matters far beyond the tolerance: otherwise the test above proves nothing.
  EXPECT_GT(MaxAbsDifference(weightedReference, unweightedReference), 1000 * kReferenceTolerance * MaxAbs(weightedReference));
}

TEST(PoissonBlendImageFilter, InterpolationFactorZeroKeepsDestination)
{
  const auto destination = Destination2();
  const auto output = Blend<Image2>(destination, Source2(), EllipseMask2(), [](itk::PoissonBlendImageFilter<Image2> * filter) {
    filter->SetInterpolationFactor(0.0);
  });
  // Guidance = destination gradient: the destination solves the problem (tolerance as the self blend).
  EXPECT_LE(MaxAbsDifference(Values(output.GetPointer()), Values(destination.GetPointer())), 1e-4 * 60.0);
}

TEST(PoissonBlendImageFilter, ClampOutputLimitsTheBlendedValues)
{
  const auto destination = Destination2();
  const auto source = Source2();
  const auto mask = EllipseMask2();
  using Filter = itk::PoissonBlendImageFilter<Image2>;
  const auto free = Blend<Image2>(destination, source, mask);
  const auto clamped = Blend<Image2>(destination, source, mask, [](Filter * filter) {
    filter->ClampOutputOn();
    filter->SetOutputMinimum(95.0);
    filter->SetOutputMaximum(105.0);
  });
  size_t clampedCount = 0;
  for (itk::ImageRegionConstIteratorWithIndex<Mask2> it(mask, mask->GetLargestPossibleRegion()); !it.IsAtEnd(); ++it)
  {
    const float value = clamped->GetPixel(it.GetIndex());
    if (it.Get())
    {
      EXPECT_GE(value, 95.0f);
      EXPECT_LE(value, 105.0f);
      const float unclamped = free->GetPixel(it.GetIndex());
      clampedCount += unclamped != value;
      EXPECT_EQ(value, std::min(105.0f, std::max(95.0f, unclamped)));
    }
    else
    {
      EXPECT_EQ(value, destination->GetPixel(it.GetIndex())); // destination outside [95, 105] stays
    }
  }
  EXPECT_GT(clampedCount, 0u);
}

TEST(PoissonBlendImageFilter, BoxFormulationSolvesOnTheBoundingBox)
{
  const auto destination = Destination2();
  const auto source = Source2();
  const auto mask = EllipseMask2();
  using Filter = itk::PoissonBlendImageFilter<Image2>;
  const auto box = Blend<Image2>(destination, source, mask, [](Filter * filter) {
    filter->SetFormulation(Filter::FormulationEnum::Box);
  });
  const auto system = BuildSystem({ kSize2[0], kSize2[1] },
                                  { 1.0, 1.0 },
                                  MaskValues(mask.GetPointer()),
                                  Values(destination.GetPointer()),
                                  Values(source.GetPointer()),
                                  Rule::Source,
                                  1.0,
                                  true);
  // The box solve is a single float DST solve (no refinement): float FFT rounding, relative to
  // the values (up to ~400), stays below 1e-5 (measured about 1e-6).
  const auto reference = ReferenceSolve(system);
  EXPECT_LE(MaxAbsDifference(Values(box.GetPointer()), reference), 1e-5 * MaxAbs(reference));
  // Destination voxels inside the box but outside the mask change, as in OpenCV's seamlessClone.
  EXPECT_NE(box->GetPixel({ { 10, 10 } }), destination->GetPixel({ { 10, 10 } }));
  EXPECT_EQ(box->GetPixel({ { 8, 8 } }), destination->GetPixel({ { 8, 8 } })); // outside the box

  // With a rectangular mask both formulations solve the same problem.
  const auto rectangle = MakeMask<Mask2>(kSize2, [](const Image2::IndexType & i) {
    return i[0] >= 5 && i[0] <= 40 && i[1] >= 3 && i[1] <= 30;
  });
  const auto exactOnRectangle = Blend<Image2>(destination, source, rectangle);
  const auto boxOnRectangle = Blend<Image2>(destination, source, rectangle, [](Filter * filter) {
    filter->SetFormulation(Filter::FormulationEnum::Box);
  });
  EXPECT_LE(MaxAbsDifference(Values(exactOnRectangle.GetPointer()), Values(boxOnRectangle.GetPointer())), 1e-5 * 400.0);
}

TEST(PoissonBlendImageFilter, PreconditionersGiveTheSameSolution)
{
  const auto destination = Destination2();
  const auto source = Source2();
  const auto mask = EllipseMask2();
  using Filter = itk::PoissonBlendImageFilter<Image2>;
  const auto solve = [&](bool multigrid, bool enlarge, unsigned int & iterations) {
    return Blend<Image2>(destination, source, mask, [&](Filter * filter) {
      filter->SetRelativeTolerance(1e-10);
      filter->SetUseMultigrid(multigrid);
      filter->SetEnlargeToFastSize(enlarge);
      filter->Update();
      iterations = filter->GetNumberOfIterations();
    });
  };
  unsigned int multigridIterations = 0;
  unsigned int enlargedIterations = 0;
  unsigned int asIsIterations = 0;
  const auto   multigrid = solve(true, true, multigridIterations);
  const auto   enlarged = solve(false, true, enlargedIterations); // DST grid on fast lengths
  const auto   asIs = solve(false, false, asIsIterations);
  // All solve to 1e-10: they agree to float rounding of values up to about 400.
  EXPECT_LE(MaxAbsDifference(Values(multigrid.GetPointer()), Values(asIs.GetPointer())), 1e-6 * 400.0);
  EXPECT_LE(MaxAbsDifference(Values(enlarged.GetPointer()), Values(asIs.GetPointer())), 1e-6 * 400.0);
  EXPECT_GT(multigridIterations, 1u);
  EXPECT_GT(enlargedIterations, 1u);
  EXPECT_GT(asIsIterations, 1u);

  // A mask that fills its bounding box is one direct DST solve, plus at most one refinement
  // when the float transform's rounding (about 1e-6 relative) misses the default 1e-6.
  const auto rectangle = MakeMask<Mask2>(kSize2, [](const Image2::IndexType & i) {
    return i[0] >= 5 && i[0] <= 40 && i[1] >= 3 && i[1] <= 30;
  });
  auto filter = Filter::New();
  filter->SetDestinationImage(destination);
  filter->SetSourceImage(source);
  filter->SetMaskImage(rectangle);
  filter->Update();
  EXPECT_LE(filter->GetNumberOfIterations(), 2u);
}

TEST(PoissonBlendImageFilter, MultigridHandlesStrongAnisotropy)
{
  // Spacing 0.5 x 4: weights differ 64-fold; semi-coarsening keeps the cycle effective.
  const std::array<double, 2> spacing{ 0.5, 4.0 };
  const auto                  destination = Destination2(spacing);
  const auto                  source = Source2(spacing);
  const auto                  mask = EllipseMask2(spacing);
  using Filter = itk::PoissonBlendImageFilter<Image2>;
  auto filter = Filter::New();
  filter->SetDestinationImage(destination);
  filter->SetSourceImage(source);
  filter->SetMaskImage(mask);
  filter->SetRelativeTolerance(1e-10);
  filter->Update();
  // Iteration bound: 1e-10 at the ~0.15 reduction per iteration measured on isotropic grids
  // needs about 12; twice that leaves room, far below what an ineffective cycle needs (100s).
  EXPECT_LE(filter->GetNumberOfIterations(), 25u);
  const auto system = BuildSystem({ kSize2[0], kSize2[1] },
                                  { 4.0, 1.0 / 16.0 },
                                  MaskValues(mask.GetPointer()),
                                  Values(destination.GetPointer()),
                                  Values(source.GetPointer()),
                                  Rule::Source,
                                  1.0,
                                  false);
  ExpectMatchesReference(filter->GetOutput(), system, ReferenceSolve(system));
}

TEST(PoissonBlendImageFilter, ThreeDimensionalScalarMatchesReference)
{
  const std::array<double, 3> spacing{ 0.9, 1.1, 2.0 };
  const auto destination = MakeImage<Image3>(
    kSize3,
    1,
    [](const Image3::IndexType & i, unsigned int) {
      return -200.0 + 30.0 * std::sin(0.3 * i[0] + 0.2 * i[2]) + 10.0 * Texture(i[0], i[1], i[2], 7.0);
    },
    spacing);
  const auto source = MakeImage<Image3>(
    kSize3,
    1,
    [](const Image3::IndexType & i, unsigned int) { return 40.0 * Texture(i[0], i[1], i[2], 8.0); },
    spacing);
  auto mask = MakeMask<Mask3>(kSize3, Ellipsoid<3>({ 9.5, 8.5, 7.5 }, { 7.0, 6.0, 5.0 }));
  mask->SetSpacing(spacing.data());
  using Filter = itk::PoissonBlendImageFilter<Image3>;
  for (const auto mode : { Filter::GradientModeEnum::Source, Filter::GradientModeEnum::Mixed })
  {
    const auto output = Blend<Image3>(destination, source, mask, [&](Filter * filter) {
      filter->SetGradientMode(mode);
      filter->SetRelativeTolerance(1e-10);
    });
    const auto system = BuildSystem({ kSize3[0], kSize3[1], kSize3[2] },
                                    { 1.0 / (0.9 * 0.9), 1.0 / (1.1 * 1.1), 1.0 / 4.0 },
                                    MaskValues(mask.GetPointer()),
                                    Values(destination.GetPointer()),
                                    Values(source.GetPointer()),
                                    mode == Filter::GradientModeEnum::Mixed ? Rule::Mixed : Rule::Source,
                                    1.0,
                                    false);
    ExpectMatchesReference(output.GetPointer(), system, ReferenceSolve(system));
    EXPECT_LE(RelativeResidual(system, Values(output.GetPointer())), 1e-5);
  }
}

TEST(PoissonBlendImageFilter, DegenerateMasksMatchReference)
{
  // A single voxel, a one-voxel-thick slab, a thin line and two separate blobs: box extents of
  // 1, grids the multigrid cannot coarsen along some axes, several components of the mask.
  const auto destination = MakeImage<Image3>(kSize3, 1, [](const Image3::IndexType & i, unsigned int) {
    return 50.0 * Texture(i[0], i[1], i[2], 11.0);
  });
  const auto source = MakeImage<Image3>(kSize3, 1, [](const Image3::IndexType & i, unsigned int) {
    return 70.0 * Texture(i[0], i[1], i[2], 12.0);
  });
  const std::vector<std::function<bool(const Image3::IndexType &)>> shapes{
    [](const Image3::IndexType & i) { return i[0] == 9 && i[1] == 9 && i[2] == 7; },
    [](const Image3::IndexType & i) { return i[2] == 5 && i[0] >= 2 && i[0] <= 15 && i[1] >= 3 && i[1] <= 14; },
    [](const Image3::IndexType & i) { return i[1] == 4 && i[2] == 4 && i[0] >= 1 && i[0] <= 18; },
    [](const Image3::IndexType & i) {
      return (std::abs(i[0] - 4) + std::abs(i[1] - 4) + std::abs(i[2] - 4) <= 2) ||
             (std::abs(i[0] - 14) + std::abs(i[1] - 12) + std::abs(i[2] - 10) <= 3);
    }
  };
  using Filter = itk::PoissonBlendImageFilter<Image3>;
  for (size_t shape = 0; shape < shapes.size(); ++shape)
  {
    const auto mask = MakeMask<Mask3>(kSize3, shapes[shape]);
    for (const bool multigrid : { true, false })
    {
      const auto output = Blend<Image3>(destination, source, mask, [&](Filter * filter) {
        filter->SetRelativeTolerance(1e-10);
        filter->SetUseMultigrid(multigrid);
        filter->SetGradientMode(Filter::GradientModeEnum::Mixed);
      });
      const auto system = BuildSystem({ kSize3[0], kSize3[1], kSize3[2] },
                                      { 1.0, 1.0, 1.0 },
                                      MaskValues(mask.GetPointer()),
                                      Values(destination.GetPointer()),
                                      Values(source.GetPointer()),
                                      Rule::Mixed,
                                      1.0,
                                      false);
      const auto reference = ReferenceSolve(system);
      EXPECT_LE(MaxAbsDifference(Values(output.GetPointer()), reference), kReferenceTolerance * MaxAbs(reference))
        << "shape " << shape << (multigrid ? ", multigrid" : ", DST preconditioner");
    }
  }
}

template <typename TVectorImage, typename TScalarImage>
void
ExpectVectorEqualsScalarPerComponent(const typename TVectorImage::SizeType & size)
{
  constexpr unsigned int D = TVectorImage::ImageDimension;
  using Index = typename TVectorImage::IndexType;
  auto value = [](double seed) {
    return [seed](const Index & i, unsigned int c) {
      return 100.0 * (c + 1) + 25.0 * Texture(i[0], i[1], D > 2 ? i[D - 1] : 0, seed + c);
    };
  };
  const auto destination = MakeImage<TVectorImage>(size, 3, value(10.0));
  const auto source = MakeImage<TVectorImage>(size, 3, value(20.0));
  std::array<double, D> centre;
  std::array<double, D> radii;
  for (unsigned int i = 0; i < D; ++i)
  {
    centre[i] = 0.5 * (size[i] - 1);
    radii[i] = 0.35 * size[i];
  }
  using Mask = itk::Image<unsigned char, D>;
  const auto mask = MakeMask<Mask>(size, Ellipsoid<D>(centre, radii));
  const auto output = Blend<TVectorImage>(destination, source, mask);
  const auto blended = Values(output.GetPointer());
  for (unsigned int c = 0; c < 3; ++c)
  {
    const auto scalarDestination = MakeImage<TScalarImage>(size, 1, [&](const Index & i, unsigned int) {
      return value(10.0)(i, c);
    });
    const auto scalarSource = MakeImage<TScalarImage>(size, 1, [&](const Index & i, unsigned int) {
      return value(20.0)(i, c);
    });
    const auto scalar = Values(Blend<TScalarImage>(scalarDestination, scalarSource, mask).GetPointer())[0];
    // Source mode solves the components independently with the same arithmetic: bit-identical.
    EXPECT_EQ(blended[c], scalar) << "component " << c;
  }
}

TEST(PoissonBlendImageFilter, VectorImageEqualsScalarBlendPerComponent2D)
{
  ExpectVectorEqualsScalarPerComponent<VectorImage2, Image2>(VectorImage2::SizeType{ { 30, 26 } });
}

TEST(PoissonBlendImageFilter, VectorImageEqualsScalarBlendPerComponent3D)
{
  ExpectVectorEqualsScalarPerComponent<VectorImage3, Image3>(VectorImage3::SizeType{ { 14, 12, 11 } });
}

TEST(PoissonBlendImageFilter, SameResultForOneAndManyThreads)
{
  const auto destination = MakeImage<VectorImage3>(kSize3, 3, [](const Image3::IndexType & i, unsigned int c) {
    return 80.0 * Texture(i[0], i[1], i[2], 30.0 + c);
  });
  const auto source = MakeImage<VectorImage3>(kSize3, 3, [](const Image3::IndexType & i, unsigned int c) {
    return 90.0 * Texture(i[0], i[1], i[2], 40.0 + c);
  });
  const auto mask = MakeMask<Mask3>(kSize3, Ellipsoid<3>({ 9.5, 8.5, 7.5 }, { 7.0, 6.0, 5.0 }));
  using Filter = itk::PoissonBlendImageFilter<VectorImage3>;
  const auto run = [&](unsigned int threads) {
    return Hash(Blend<VectorImage3>(destination, source, mask, [&](Filter * filter) {
                  filter->SetGradientMode(Filter::GradientModeEnum::Mixed);
                  filter->SetNumberOfWorkUnits(threads);
                  filter->GetMultiThreader()->SetMaximumNumberOfThreads(threads);
                }).GetPointer());
  };
  const std::string single = run(1);
  EXPECT_EQ(run(8), single);

  // Concurrent filters (as in the training data loader) share the FFTW plan cache.
  std::vector<std::string> hashes(4);
  std::vector<std::thread> workers;
  for (size_t t = 0; t < hashes.size(); ++t)
  {
    workers.emplace_back([&, t]() { hashes[t] = run(2); });
  }
  for (auto & worker : workers)
  {
    worker.join();
  }
  for (const auto & hash : hashes)
  {
    EXPECT_EQ(hash, single);
  }
}

// --- bad input -------------------------------------------------------------------------------

namespace
{
template <typename TFunction>
void
ExpectExceptionMentioning(TFunction && function, const std::string & text)
{
  try
  {
    function();
    ADD_FAILURE() << "no exception; expected one mentioning \"" << text << "\"";
  }
  catch (const itk::ExceptionObject & error)
  {
    EXPECT_NE(std::string(error.GetDescription()).find(text), std::string::npos) << error.GetDescription();
  }
}
} // namespace

TEST(PoissonBlendImageFilter, RejectsEmptyMask)
{
  const auto empty = MakeMask<Mask2>(kSize2, [](const Image2::IndexType &) { return false; });
  ExpectExceptionMentioning([&]() { Blend<Image2>(Destination2(), Source2(), empty); }, "no non-zero voxel");
}

TEST(PoissonBlendImageFilter, RejectsMaskTouchingTheBorder)
{
  for (const Image2::IndexType corner : { Image2::IndexType{ { 0, 10 } }, Image2::IndexType{ { 10, 39 } } })
  {
    const auto mask = MakeMask<Mask2>(kSize2, [&](const Image2::IndexType & i) {
      return std::abs(i[0] - corner[0]) <= 3 && std::abs(i[1] - corner[1]) <= 3;
    });
    ExpectExceptionMentioning([&]() { Blend<Image2>(Destination2(), Source2(), mask); }, "touches the image border");
  }
}

TEST(PoissonBlendImageFilter, RejectsMismatchedInputs)
{
  const auto small = MakeImage<Image2>(Image2::SizeType{ { 47, 40 } }, 1, [](const Image2::IndexType &, unsigned int) {
    return 1.0;
  });
  ExpectExceptionMentioning([&]() { Blend<Image2>(Destination2(), small, EllipseMask2()); }, "SourceImage must lie");
  const auto smallMask = MakeMask<Mask2>(Image2::SizeType{ { 48, 41 } }, [](const Image2::IndexType &) { return true; });
  ExpectExceptionMentioning([&]() { Blend<Image2>(Destination2(), Source2(), smallMask); }, "MaskImage must lie");
  ExpectExceptionMentioning([&]() { Blend<Image2>(Destination2(), Source2({ 1.0, 2.0 }), EllipseMask2()); },
                            "Spacing");

  const auto three = MakeImage<VectorImage2>(kSize2, 3, [](const Image2::IndexType &, unsigned int) { return 1.0; });
  const auto two = MakeImage<VectorImage2>(kSize2, 2, [](const Image2::IndexType &, unsigned int) { return 1.0; });
  ExpectExceptionMentioning([&]() { Blend<VectorImage2>(three, two, EllipseMask2()); }, "components per pixel");

  auto filter = itk::PoissonBlendImageFilter<Image2>::New();
  filter->SetDestinationImage(Destination2());
  filter->SetMaskImage(EllipseMask2());
  EXPECT_THROW(filter->Update(), itk::ExceptionObject); // no source
}

TEST(PoissonBlendImageFilter, RejectsNonFiniteValues)
{
  auto destination = Destination2();
  destination->SetPixel({ { 23, 19 } }, std::numeric_limits<float>::quiet_NaN());
  ExpectExceptionMentioning([&]() { Blend<Image2>(destination, Source2(), EllipseMask2()); }, "DestinationImage has a non-finite");
  auto source = Source2();
  source->SetPixel({ { 30, 20 } }, std::numeric_limits<float>::infinity());
  ExpectExceptionMentioning([&]() { Blend<Image2>(Destination2(), source, EllipseMask2()); }, "SourceImage has a non-finite");
  // A NaN where the solve does not look (outside the grown bounding box) is copied through.
  auto far = Destination2();
  far->SetPixel({ { 1, 1 } }, std::numeric_limits<float>::quiet_NaN());
  const auto output = Blend<Image2>(far, Source2(), EllipseMask2());
  EXPECT_TRUE(std::isnan(output->GetPixel({ { 1, 1 } })));
}

TEST(PoissonBlendImageFilter, RejectsInvalidParameters)
{
  using Filter = itk::PoissonBlendImageFilter<Image2>;
  ExpectExceptionMentioning(
    [&]() {
      Blend<Image2>(Destination2(), Source2(), EllipseMask2(), [](Filter * filter) {
        filter->ClampOutputOn();
        filter->SetOutputMinimum(10.0);
        filter->SetOutputMaximum(-10.0);
      });
    },
    "OutputMinimum");
  ExpectExceptionMentioning(
    [&]() {
      Blend<Image2>(Destination2(), Source2(), EllipseMask2(), [](Filter * filter) { filter->SetRelativeTolerance(0.0); });
    },
    "RelativeTolerance");
  // An iteration limit the solve cannot meet is reported, not ignored.
  ExpectExceptionMentioning(
    [&]() {
      Blend<Image2>(Destination2(), Source2(), EllipseMask2(), [](Filter * filter) {
        filter->SetRelativeTolerance(1e-12);
        filter->SetMaximumNumberOfIterations(1);
      });
    },
    "did not converge");
}
