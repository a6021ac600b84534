#include "nsaRandom.h"

#include "nsaError.h"

#include <cmath>
#include <string>

namespace nsa
{

namespace
{

constexpr std::uint64_t
SplitMix64(std::uint64_t & state)
{
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

constexpr std::uint64_t
Mix(std::uint64_t value, std::uint64_t constant)
{
  std::uint64_t state = value ^ constant;
  return SplitMix64(state);
}

constexpr std::uint64_t
RotateLeft(std::uint64_t x, int k)
{
  return (x << k) | (x >> (64 - k));
}

} // namespace

RandomStream::RandomStream(std::uint64_t seed, std::uint64_t epoch, std::uint64_t index, RandomPurpose purpose)
{
  std::uint64_t key = Mix(seed, 0x243f6a8885a308d3ULL);
  key = Mix(key ^ epoch, 0x13198a2e03707344ULL);
  key = Mix(key ^ index, 0xa4093822299f31d0ULL);
  key = Mix(key ^ static_cast<std::uint64_t>(purpose), 0x082efa98ec4e6c89ULL);
  m_Key = key;
  this->SeedState(key);
}

RandomStream::RandomStream(std::uint64_t key, bool)
  : m_Key(key)
{
  this->SeedState(key);
}

void
RandomStream::SeedState(std::uint64_t key)
{
  std::uint64_t state = key;
  for (auto & word : m_State)
  {
    word = SplitMix64(state);
  }
}

RandomStream
RandomStream::Child(std::uint64_t child) const
{
  return RandomStream(Mix(m_Key ^ Mix(child, 0x452821e638d01377ULL), 0xbe5466cf34e90c6cULL), true);
}

std::uint64_t
RandomStream::NextUInt64()
{
  // xoshiro256**
  const std::uint64_t result = RotateLeft(m_State[1] * 5, 7) * 9;
  const std::uint64_t t = m_State[1] << 17;
  m_State[2] ^= m_State[0];
  m_State[3] ^= m_State[1];
  m_State[1] ^= m_State[2];
  m_State[0] ^= m_State[3];
  m_State[2] ^= t;
  m_State[3] = RotateLeft(m_State[3], 45);
  return result;
}

double
RandomStream::Uniform()
{
  return static_cast<double>(this->NextUInt64() >> 11) * 0x1.0p-53;
}

double
RandomStream::Uniform(double low, double high)
{
  return low + (high - low) * this->Uniform();
}

std::uint64_t
RandomStream::UniformIndex(std::uint64_t n)
{
  if (n == 0)
  {
    throw Error("RandomStream::UniformIndex: empty range");
  }
  // Rejection of the top partial block keeps every value equally likely.
  const std::uint64_t limit = UINT64_MAX - (UINT64_MAX % n);
  std::uint64_t       x;
  do
  {
    x = this->NextUInt64();
  } while (x >= limit);
  return x % n;
}

std::int64_t
RandomStream::UniformInteger(std::int64_t low, std::int64_t high)
{
  if (high < low)
  {
    throw Error("RandomStream::UniformInteger: empty range [" + std::to_string(low) + ", " + std::to_string(high) +
                "]");
  }
  const auto span = static_cast<std::uint64_t>(high - low) + 1;
  if (span == 0) // the full 64-bit range
  {
    return static_cast<std::int64_t>(this->NextUInt64());
  }
  return low + static_cast<std::int64_t>(this->UniformIndex(span));
}

bool
RandomStream::Bernoulli(double p)
{
  return this->Uniform() < p;
}

double
RandomStream::Normal(double mean, double sigma)
{
  if (m_HasSpareNormal)
  {
    m_HasSpareNormal = false;
    return mean + sigma * m_SpareNormal;
  }
  double u, v, s;
  do
  {
    u = 2.0 * this->Uniform() - 1.0;
    v = 2.0 * this->Uniform() - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  const double factor = std::sqrt(-2.0 * std::log(s) / s);
  m_SpareNormal = v * factor;
  m_HasSpareNormal = true;
  return mean + sigma * u * factor;
}

double
RandomStream::Gamma(double shape, double scale)
{
  if (!(shape > 0.0) || !(scale > 0.0))
  {
    throw Error("RandomStream::Gamma: shape and scale must be positive");
  }
  if (shape < 1.0)
  {
    // Gamma(k) = Gamma(k + 1) · U^(1/k)
    const double u = this->Uniform();
    return this->Gamma(shape + 1.0, scale) * std::pow(u > 0.0 ? u : 0x1.0p-53, 1.0 / shape);
  }
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  while (true)
  {
    double x, v;
    do
    {
      x = this->Normal(0.0, 1.0);
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = this->Uniform();
    if (u < 1.0 - 0.0331 * x * x * x * x)
    {
      return d * v * scale;
    }
    if (u > 0.0 && std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v)))
    {
      return d * v * scale;
    }
  }
}

} // namespace nsa
