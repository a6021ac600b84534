// PNG encoding in memory with libpng (the library ITK's PNG reader and writer use): report
// thumbnails are embedded in HTML, so no file is needed, and none is written (a temporary
// file in a shared folder would be a name other users can race for).
#include "nsaOverlay.h"

#include "nsaError.h"

#include <png.h>

#include <csetjmp>
#include <limits>

namespace nsa
{

namespace
{
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
} // namespace

std::string
EncodeRgbPng(const unsigned char * rgb, std::size_t width, std::size_t height)
{
  if (rgb == nullptr || width == 0 || height == 0 || width > std::numeric_limits<png_uint_32>::max() / 4 ||
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
  // and the row loop only reads `rgb`.
  if (setjmp(png_jmpbuf(png)))
  {
    png_destroy_write_struct(&png, &info);
    throw OutputError("PNG encoding failed (" + std::to_string(width) + " x " + std::to_string(height) + ")");
  }
  png_set_write_fn(png, &out, AppendToString, FlushNothing);
  png_set_IHDR(png, info, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height), 8, PNG_COLOR_TYPE_RGB,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (std::size_t y = 0; y < height; ++y)
  {
    png_write_row(png, const_cast<png_bytep>(rgb + y * width * 3));
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

} // namespace nsa
