// The toolkit's renderer (nsaPicture.h). Files go through ITK's PNG writer, as every other
// image the toolkit writes; bytes in memory through libpng (the library ITK's PNG IO uses),
// which ITK's ImageIO cannot do: report thumbnails are embedded in HTML, so no file is needed
// and none is written (a temporary file in a shared folder would be a name others can race for).
#include "nsaPicture.h"

#include "nsaAtomicOutput.h"
#include "nsaError.h"

#include "itkImage.h"
#include "itkImageFileWriter.h"
#include "itkRGBPixel.h"

#include <png.h>

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <limits>

namespace nsa
{

namespace
{
double
Clip01(double v)
{
  return std::min(1.0, std::max(0.0, v));
}

/** Piecewise-linear colour map through evenly spaced anchors. */
std::array<double, 3>
Interpolate(const std::vector<std::array<double, 3>> & anchors, double t)
{
  const double          position = Clip01(t) * static_cast<double>(anchors.size() - 1);
  const auto            i = std::min(static_cast<std::size_t>(position), anchors.size() - 2);
  const double          f = position - static_cast<double>(i);
  std::array<double, 3> c;
  for (int k = 0; k < 3; ++k)
  {
    c[k] = anchors[i][k] + f * (anchors[i + 1][k] - anchors[i][k]);
  }
  return c;
}

extern "C" void
AppendToString(png_structp png, png_bytep data, png_size_t length)
{
  auto * out = static_cast<std::string *>(png_get_io_ptr(png));
  out->append(reinterpret_cast<const char *>(data), length);
}

extern "C" void
FlushNothing(png_structp)
{}

extern "C" void
RaiseError(png_structp png, png_const_charp)
{
  png_longjmp(png, 1);
}

extern "C" void
IgnoreWarning(png_structp, png_const_charp)
{}

template <typename TPixel>
void
WriteWithItk(const Picture & picture, const std::string & path)
{
  using ImageType = itk::Image<TPixel, 2>;
  auto image = ImageType::New();
  image->SetRegions(typename ImageType::SizeType{ { picture.Width(), picture.Height() } });
  image->Allocate();
  std::copy(picture.Bytes().begin(), picture.Bytes().end(), reinterpret_cast<unsigned char *>(image->GetBufferPointer()));
  AtomicOutput output(path);
  try
  {
    auto writer = itk::ImageFileWriter<ImageType>::New();
    writer->SetInput(image);
    writer->SetFileName(output.TemporaryPath());
    writer->Update();
  }
  catch (const itk::ExceptionObject & error)
  {
    throw OutputError("Cannot write '" + path + "': " + error.GetDescription());
  }
  output.Commit();
}
} // namespace

Picture::Picture(std::size_t width, std::size_t height, unsigned int channels, unsigned char background)
  : m_Width(width)
  , m_Height(height)
  , m_Channels(channels)
  , m_Bytes(width * height * channels, background)
{
  if (channels != 1 && channels != 3)
  {
    throw ParameterError("picture: " + std::to_string(channels) + " channels (expected 1 grey or 3 RGB)");
  }
}

void
Picture::Set(long x, long y, const Colour & colour)
{
  if (x < 0 || y < 0 || static_cast<std::size_t>(x) >= m_Width || static_cast<std::size_t>(y) >= m_Height)
  {
    return;
  }
  std::copy(colour.begin(), colour.begin() + m_Channels, At(static_cast<std::size_t>(x), static_cast<std::size_t>(y)));
}

void
Picture::Outline(const unsigned char * label, const Colour & colour)
{
  for (std::size_t y = 0; y < m_Height; ++y)
  {
    for (std::size_t x = 0; x < m_Width; ++x)
    {
      const std::size_t i = y * m_Width + x;
      if (label[i] != 0 && (x == 0 || y == 0 || x + 1 == m_Width || y + 1 == m_Height || !label[i - 1] ||
                            !label[i + 1] || !label[i - m_Width] || !label[i + m_Width]))
      {
        Set(static_cast<long>(x), static_cast<long>(y), colour);
      }
    }
  }
}

void
Picture::FlipRows()
{
  for (std::size_t y = 0; y < m_Height / 2; ++y)
  {
    std::swap_ranges(At(0, y), At(0, y) + m_Width * m_Channels, At(0, m_Height - 1 - y));
  }
}

double
WindowLevel(double value, double low, double high)
{
  return Clip01((value - low) / (high - low));
}

std::array<double, 3>
ColormapColour(const std::string & colormap, double t)
{
  t = Clip01(t);
  if (colormap == "hot")
  {
    // black -> red -> yellow -> white, in thirds.
    return { Clip01(3.0 * t), Clip01(3.0 * t - 1.0), Clip01(3.0 * t - 2.0) };
  }
  if (colormap == "jet")
  {
    return { Clip01(1.5 - std::abs(4.0 * t - 3.0)), Clip01(1.5 - std::abs(4.0 * t - 2.0)),
             Clip01(1.5 - std::abs(4.0 * t - 1.0)) };
  }
  if (colormap == "viridis")
  {
    // Five anchors of matplotlib's viridis (#440154, #3b528b, #21918c, #5ec962, #fde725).
    static const std::vector<std::array<double, 3>> anchors{ { 68 / 255.0, 1 / 255.0, 84 / 255.0 },
                                                             { 59 / 255.0, 82 / 255.0, 139 / 255.0 },
                                                             { 33 / 255.0, 145 / 255.0, 140 / 255.0 },
                                                             { 94 / 255.0, 201 / 255.0, 98 / 255.0 },
                                                             { 253 / 255.0, 231 / 255.0, 37 / 255.0 } };
    return Interpolate(anchors, t);
  }
  throw ParameterError("colormap '" + colormap + "' is unknown (expected hot, jet or viridis)");
}

std::vector<unsigned char>
ColormapRgb(const std::string & colormap, double t)
{
  const auto c = ColormapColour(colormap, t);
  return { static_cast<unsigned char>(std::lround(255.0 * c[0])), static_cast<unsigned char>(std::lround(255.0 * c[1])),
           static_cast<unsigned char>(std::lround(255.0 * c[2])) };
}

Picture
Tile(const std::vector<Picture> & tiles, std::size_t columns, std::size_t gap, unsigned char background)
{
  if (tiles.empty() || columns == 0)
  {
    throw ParameterError("montage: no tiles or no columns");
  }
  const std::size_t width = tiles[0].Width();
  const std::size_t height = tiles[0].Height();
  const unsigned    channels = tiles[0].Channels();
  for (const Picture & tile : tiles)
  {
    if (tile.Width() != width || tile.Height() != height || tile.Channels() != channels)
    {
      throw ParameterError("montage: the tiles differ in size or channels");
    }
  }
  columns = std::min(columns, tiles.size());
  const std::size_t rows = (tiles.size() + columns - 1) / columns;
  Picture           montage(columns * width + (columns - 1) * gap, rows * height + (rows - 1) * gap, channels, background);
  for (std::size_t t = 0; t < tiles.size(); ++t)
  {
    const std::size_t x0 = (t % columns) * (width + gap);
    const std::size_t y0 = (t / columns) * (height + gap);
    for (std::size_t y = 0; y < height; ++y)
    {
      std::copy(tiles[t].At(0, y), tiles[t].At(0, y) + width * channels, montage.At(x0, y0 + y));
    }
  }
  return montage;
}

std::string
EncodePng(const Picture & picture)
{
  const std::size_t width = picture.Width();
  const std::size_t height = picture.Height();
  if (width == 0 || height == 0 || width > std::numeric_limits<png_uint_32>::max() / 4 ||
      height > std::numeric_limits<png_uint_32>::max() / 4)
  {
    throw OutputError("PNG encoding: an empty or oversized image (" + std::to_string(width) + " x " +
                      std::to_string(height) + ")");
  }
  std::string out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, RaiseError, IgnoreWarning);
  png_infop   info = png != nullptr ? png_create_info_struct(png) : nullptr;
  if (png == nullptr || info == nullptr)
  {
    png_destroy_write_struct(&png, &info);
    throw OutputError("PNG encoding: out of memory");
  }
  // libpng reports errors by longjmp; nothing with a destructor is created below this point
  // and the row loop only reads the picture.
  if (setjmp(png_jmpbuf(png)))
  {
    png_destroy_write_struct(&png, &info);
    throw OutputError("PNG encoding failed (" + std::to_string(width) + " x " + std::to_string(height) + ")");
  }
  png_set_write_fn(png, &out, AppendToString, FlushNothing);
  png_set_IHDR(png, info, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height), 8,
               picture.Channels() == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (std::size_t y = 0; y < height; ++y)
  {
    png_write_row(png, const_cast<png_bytep>(picture.At(0, y)));
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

void
WritePng(const Picture & picture, const std::string & path)
{
  if (picture.Width() == 0 || picture.Height() == 0)
  {
    throw OutputError("Cannot write '" + path + "': the picture is empty");
  }
  if (picture.Channels() == 1)
  {
    WriteWithItk<unsigned char>(picture, path);
  }
  else
  {
    WriteWithItk<itk::RGBPixel<unsigned char>>(picture, path);
  }
}

} // namespace nsa
