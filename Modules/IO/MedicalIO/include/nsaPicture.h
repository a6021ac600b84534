#ifndef nsaPicture_h
#define nsaPicture_h

#include <array>
#include <cstddef>
#include <string>
#include <vector>

namespace nsa
{

/** \class Picture
 * \brief An 8-bit picture for people to look at (grey or RGB), rows from top to bottom.
 *
 * The toolkit's one renderer: NSAOverlay's overlays and montages, the report's thumbnails,
 * the trainer's example batches and loss curve are all drawn on a Picture and written by
 * nsa::WritePng (a file, through ITK's PNG writer) or nsa::EncodePng (bytes in memory, for
 * the HTML report's base64 images; no temporary file). The drawing steps they share:
 * a grey level through a window (nsa::WindowLevel), a colour map (nsa::ColormapRgb), the
 * outline of a label (nsa::Picture::Outline) and montage tiling (nsa::Tile). */
class Picture
{
public:
  using Colour = std::array<unsigned char, 3>;

  Picture() = default;
  /** A `width` x `height` picture of `channels` (1 grey, 3 RGB) filled with `background`. */
  Picture(std::size_t width, std::size_t height, unsigned int channels, unsigned char background = 0);

  std::size_t  Width() const { return m_Width; }
  std::size_t  Height() const { return m_Height; }
  unsigned int Channels() const { return m_Channels; }
  /** Channels() bytes per pixel, rows from top to bottom. */
  const std::vector<unsigned char> & Bytes() const { return m_Bytes; }

  /** The first byte of pixel (x, y); x to the right, y downwards. */
  unsigned char *       At(std::size_t x, std::size_t y) { return m_Bytes.data() + (y * m_Width + x) * m_Channels; }
  const unsigned char * At(std::size_t x, std::size_t y) const
  {
    return m_Bytes.data() + (y * m_Width + x) * m_Channels;
  }
  /** Sets pixel (x, y) to `colour` (grey pictures take its first component); pixels outside
   * the picture are ignored, so that curves may run over the border. */
  void Set(long x, long y, const Colour & colour);

  /** Draws `colour` on every pixel of `label` (width x height, row-major like the picture,
   * non-zero inside) that lies on the label's border: inside, and on the picture's edge or
   * next to an outside pixel (4-neighbourhood). */
  void Outline(const unsigned char * label, const Colour & colour);

  /** Turns the picture upside down: drawn with y upwards (an image's +y axis up), shown
   * with rows from top to bottom. */
  void FlipRows();

private:
  std::size_t                m_Width = 0;
  std::size_t                m_Height = 0;
  unsigned int               m_Channels = 3;
  std::vector<unsigned char> m_Bytes;
};

/** `value` through the grey window [low, high] to [0, 1], clipped (NaN gives 0). */
double
WindowLevel(double value, double low, double high);

/** The colour of t in [0, 1] (clipped) under a named colour map, as fractions in [0, 1]:
 * "hot" (black, red, yellow, white in thirds), "jet", "viridis" (five anchors of
 * matplotlib's); nsa::ParameterError for an unknown name. */
std::array<double, 3>
ColormapColour(const std::string & colormap, double t);

/** The same in 8 bits (rounded). */
std::vector<unsigned char>
ColormapRgb(const std::string & colormap, double t);

/** A montage of equally sized tiles, `columns` per row, `gap` pixels of `background`
 * between them (none around). nsa::ParameterError if the tiles differ in size or channels. */
Picture
Tile(const std::vector<Picture> & tiles, std::size_t columns, std::size_t gap, unsigned char background);

/** The bytes of a PNG file of the picture, encoded in memory with libpng (no file is
 * written). nsa::OutputError when the picture is empty or libpng fails. */
std::string
EncodePng(const Picture & picture);

/** Writes the picture as a PNG file through ITK's PNG writer, atomically (nsa::AtomicOutput);
 * nsa::OutputError naming the file when it cannot be written. */
void
WritePng(const Picture & picture, const std::string & path);

} // namespace nsa

#endif
