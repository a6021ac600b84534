#include "nsaScoreTable.h"

#include "nsaError.h"

#include <algorithm>
#include <cstring>
#include <cmath>
#include <functional>
#include <limits>
#include <sstream>

namespace nsa
{

namespace
{
using Wide = unsigned __int128;

Wide
ToWide(const ProWeight & w)
{
  return (static_cast<Wide>(w.high) << 64) | w.low;
}

ProWeight
FromWide(Wide value)
{
  ProWeight w;
  w.low = static_cast<std::uint64_t>(value);
  w.high = static_cast<std::uint64_t>(value >> 64);
  return w;
}

template <typename TScore>
TScore
Canonical(TScore score)
{
  if (std::isnan(score))
  {
    throw InputError("score table: a score is NaN; score maps and case scores must be numbers");
  }
  // -0 and +0 are the same threshold.
  return score == TScore(0) ? TScore(0) : score;
}
/** Sorts scores into descending order. float: an LSD radix sort on the order-preserving
 * integer image of the IEEE bits (3 passes of 11 bits; O(n), several times faster than a
 * comparison sort for the millions of voxels of a map); double: std::sort. No NaN here. */
void
SortDescending(std::vector<double> & values)
{
  std::sort(values.begin(), values.end(), std::greater<double>());
}

void
SortDescending(std::vector<float> & values)
{
  if (values.size() < 4096)
  {
    std::sort(values.begin(), values.end(), std::greater<float>());
    return;
  }
  // Key: ascending for ascending floats (flip all bits of negatives, the sign of positives),
  // then complemented so that ascending keys mean descending scores.
  std::vector<std::uint32_t> keys(values.size());
  for (size_t i = 0; i < values.size(); ++i)
  {
    std::uint32_t bits;
    std::memcpy(&bits, &values[i], sizeof(bits));
    bits = (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
    keys[i] = ~bits;
  }
  std::vector<std::uint32_t> buffer(values.size());
  constexpr int              radixBits = 11;
  constexpr std::uint32_t    buckets = 1u << radixBits;
  for (int shift = 0; shift < 32; shift += radixBits)
  {
    std::vector<size_t> count(buckets + 1, 0);
    for (std::uint32_t key : keys)
    {
      ++count[((key >> shift) & (buckets - 1)) + 1];
    }
    for (std::uint32_t b = 0; b < buckets; ++b)
    {
      count[b + 1] += count[b];
    }
    for (std::uint32_t key : keys)
    {
      buffer[count[(key >> shift) & (buckets - 1)]++] = key;
    }
    keys.swap(buffer);
  }
  for (size_t i = 0; i < values.size(); ++i)
  {
    std::uint32_t bits = ~keys[i];
    bits = (bits & 0x80000000u) ? (bits & 0x7fffffffu) : ~bits;
    std::memcpy(&values[i], &bits, sizeof(bits));
  }
}
} // namespace

std::uint64_t
ProWeight::PerVoxel(std::uint64_t componentSize)
{
  if (componentSize == 0)
  {
    throw Error("ProWeight::PerVoxel: component size is 0");
  }
  return std::numeric_limits<std::uint64_t>::max() / componentSize;
}

void
ProWeight::AddScaled(std::uint64_t perVoxel, std::uint64_t count)
{
  *this = FromWide(ToWide(*this) + static_cast<Wide>(perVoxel) * count);
}

void
ProWeight::Add(const ProWeight & other)
{
  *this = FromWide(ToWide(*this) + ToWide(other));
}

long double
ProWeight::InComponents() const
{
  const long double unit = static_cast<long double>(std::numeric_limits<std::uint64_t>::max());
  return (static_cast<long double>(high) * 18446744073709551616.0L + static_cast<long double>(low)) / unit;
}

template <typename TScore>
ScoreTable<TScore>
ScoreTable<TScore>::FromLabelledScores(const std::vector<TScore> & scores, const std::vector<bool> & labels)
{
  if (scores.size() != labels.size())
  {
    std::ostringstream message;
    message << "score table: " << scores.size() << " scores but " << labels.size() << " labels";
    throw InputError(message.str());
  }
  std::vector<TScore>                               negatives;
  std::vector<std::pair<TScore, std::uint64_t>> positives;
  for (size_t i = 0; i < scores.size(); ++i)
  {
    if (labels[i])
    {
      positives.emplace_back(scores[i], 0);
    }
    else
    {
      negatives.push_back(scores[i]);
    }
  }
  return FromSamples(std::move(negatives), std::move(positives));
}

template <typename TScore>
ScoreTable<TScore>
ScoreTable<TScore>::FromSamples(std::vector<TScore>                               negatives,
                                std::vector<std::pair<TScore, std::uint64_t>> weightedPositives)
{
  for (auto & s : negatives)
  {
    s = Canonical(s);
  }
  for (auto & p : weightedPositives)
  {
    p.first = Canonical(p.first);
  }
  SortDescending(negatives);
  std::sort(weightedPositives.begin(), weightedPositives.end(), [](const auto & a, const auto & b) {
    return a.first > b.first;
  });

  ScoreTable table;
  auto &     entries = table.m_Entries;
  size_t     n = 0;
  size_t     p = 0;
  while (n < negatives.size() || p < weightedPositives.size())
  {
    TScore score;
    if (n == negatives.size())
    {
      score = weightedPositives[p].first;
    }
    else if (p == weightedPositives.size())
    {
      score = negatives[n];
    }
    else
    {
      score = std::max(negatives[n], weightedPositives[p].first);
    }
    Entry entry{ score, 0, 0, ProWeight() };
    Wide  weight = 0;
    while (p < weightedPositives.size() && weightedPositives[p].first == score)
    {
      ++entry.positives;
      weight += weightedPositives[p].second;
      ++p;
    }
    while (n < negatives.size() && negatives[n] == score)
    {
      ++entry.negatives;
      ++n;
    }
    entry.proWeight = FromWide(weight);
    entries.push_back(entry);
  }
  entries.shrink_to_fit();
  table.Recount();
  return table;
}

template <typename TScore>
ScoreTable<TScore>
ScoreTable<TScore>::FromSortedEntries(std::vector<Entry> entries)
{
  for (size_t i = 0; i < entries.size(); ++i)
  {
    if (std::isnan(entries[i].score) || (i > 0 && !(entries[i].score < entries[i - 1].score)))
    {
      std::ostringstream message;
      message << "score table: entry " << i << " is not in strictly descending score order";
      throw InputError(message.str());
    }
  }
  ScoreTable table;
  table.m_Entries = std::move(entries);
  table.Recount();
  return table;
}

template <typename TScore>
void
ScoreTable<TScore>::Merge(const ScoreTable & other)
{
  if (other.m_Entries.empty())
  {
    return;
  }
  if (m_Entries.empty())
  {
    *this = other;
    return;
  }
  std::vector<Entry> merged;
  merged.reserve(m_Entries.size() + other.m_Entries.size());
  auto a = m_Entries.cbegin();
  auto b = other.m_Entries.cbegin();
  while (a != m_Entries.cend() || b != other.m_Entries.cend())
  {
    if (b == other.m_Entries.cend() || (a != m_Entries.cend() && a->score > b->score))
    {
      merged.push_back(*a++);
    }
    else if (a == m_Entries.cend() || b->score > a->score)
    {
      merged.push_back(*b++);
    }
    else
    {
      Entry entry = *a++;
      entry.positives += b->positives;
      entry.negatives += b->negatives;
      entry.proWeight.Add(b->proWeight);
      ++b;
      merged.push_back(entry);
    }
  }
  merged.shrink_to_fit();
  m_Entries = std::move(merged);
  Recount();
}

template <typename TScore>
bool
ScoreTable<TScore>::operator==(const ScoreTable & other) const
{
  if (m_Entries.size() != other.m_Entries.size())
  {
    return false;
  }
  for (size_t i = 0; i < m_Entries.size(); ++i)
  {
    const Entry & a = m_Entries[i];
    const Entry & b = other.m_Entries[i];
    if (a.score != b.score || a.positives != b.positives || a.negatives != b.negatives || !(a.proWeight == b.proWeight))
    {
      return false;
    }
  }
  return true;
}

template <typename TScore>
void
ScoreTable<TScore>::Recount()
{
  m_Positives = 0;
  m_Negatives = 0;
  m_TotalProWeight = ProWeight();
  for (const Entry & entry : m_Entries)
  {
    m_Positives += entry.positives;
    m_Negatives += entry.negatives;
    m_TotalProWeight.Add(entry.proWeight);
  }
}

template class ScoreTable<float>;
template class ScoreTable<double>;

} // namespace nsa
