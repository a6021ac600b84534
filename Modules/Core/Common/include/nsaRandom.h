#ifndef nsaRandom_h
#define nsaRandom_h

#include <cstdint>

namespace nsa
{

/** What a random stream is used for. Streams with different purposes are independent even
 * for the same (seed, epoch, index), so adding draws for one purpose never shifts another. */
enum class RandomPurpose : std::uint64_t
{
  Synthesis = 1,      ///< patch geometry, blend factors of one synthesised sample
  Augmentation = 2,   ///< crops, flips, rotations of one training sample
  ImageSelection = 3, ///< which normal images form a training pair
  Initialisation = 4, ///< network weights
  Shuffle = 5,        ///< order of samples in an epoch
  Calibration = 6,    ///< label calibration samples
  Test = 100          ///< unit tests
};

/** \class RandomStream
 * \brief A seeded, portable random stream for one (seed, epoch, index, purpose).
 *
 * Scheme: the four numbers are folded into one 64-bit key by the SplitMix64 finaliser
 * (key = mix(mix(mix(mix(seed) ^ epoch) ^ index) ^ purpose), each step adding a distinct
 * odd constant), and the key seeds a xoshiro256** generator through SplitMix64, as its
 * authors recommend (Blackman & Vigna, "Scrambled linear pseudorandom number generators",
 * ACM TOMS 2021). Every sample of every epoch therefore owns its stream: results do not
 * depend on which thread draws it or in which order.
 *
 * The distributions are implemented here, not taken from `<random>`, because the standard
 * library's distributions differ between implementations; these give the same values
 * wherever IEEE double arithmetic and the C math library agree (bit for bit on one machine).
 */
class RandomStream
{
public:
  explicit RandomStream(std::uint64_t seed,
                        std::uint64_t epoch = 0,
                        std::uint64_t index = 0,
                        RandomPurpose purpose = RandomPurpose::Synthesis);

  /** The derived 64-bit key, for records and tests. */
  std::uint64_t
  GetKey() const
  {
    return m_Key;
  }

  /** A stream for a sub-task (e.g. one patch of a sample): independent of this one and of
   * its other children, and a pure function of this stream's key and `child`. */
  RandomStream
  Child(std::uint64_t child) const;

  std::uint64_t
  NextUInt64();

  /** Uniform on [0, 1) with 53 random bits. */
  double
  Uniform();

  /** Uniform on [low, high). */
  double
  Uniform(double low, double high);

  /** Uniform integer on [0, n), unbiased (rejection); n > 0. */
  std::uint64_t
  UniformIndex(std::uint64_t n);

  /** Uniform integer on [low, high], inclusive; low <= high. */
  std::int64_t
  UniformInteger(std::int64_t low, std::int64_t high);

  /** True with probability p. */
  bool
  Bernoulli(double p);

  /** Normal(mean, sigma) by the Marsaglia polar method. */
  double
  Normal(double mean, double sigma);

  /** Gamma(shape k, scale theta) by Marsaglia & Tsang (2000), with the shape < 1 boost;
   * mean k·theta, variance k·theta². */
  double
  Gamma(double shape, double scale);

private:
  RandomStream(std::uint64_t key, bool);
  void
  SeedState(std::uint64_t key);

  std::uint64_t m_Key;
  std::uint64_t m_State[4];
  bool          m_HasSpareNormal{ false };
  double        m_SpareNormal{ 0.0 };
};

} // namespace nsa

#endif
