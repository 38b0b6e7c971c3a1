#include "common/metadata_filter.h"

#include "gtest/gtest.h"

namespace tessera {
namespace {

using common::v1::FieldCondition;
using common::v1::Filter;
using common::v1::MetadataValue;
using Metadata = google::protobuf::Map<std::string, MetadataValue>;

MetadataValue Int(int64_t v) {
  MetadataValue value;
  value.set_int_value(v);
  return value;
}
MetadataValue Str(const std::string& v) {
  MetadataValue value;
  value.set_string_value(v);
  return value;
}

Filter Cond(const std::string& field, FieldCondition::Op op, MetadataValue value = {}) {
  Filter filter;
  filter.mutable_condition()->set_field(field);
  filter.mutable_condition()->set_op(op);
  *filter.mutable_condition()->mutable_value() = value;
  return filter;
}

Metadata Doc() {
  Metadata metadata;
  metadata["year"] = Int(2019);
  metadata["score"].set_double_value(0.75);
  metadata["lang"] = Str("en");
  metadata["open"].set_bool_value(true);
  metadata["tags"].mutable_string_list_value()->add_values("covid");
  metadata["tags"].mutable_string_list_value()->add_values("vaccine");
  metadata["published"].mutable_timestamp_value()->set_seconds(1600000000);
  return metadata;
}

bool Match(const Filter& filter, const Metadata& metadata = Doc()) {
  auto compiled = MetadataFilter::Compile(filter);
  EXPECT_TRUE(compiled.ok()) << compiled.status();
  return compiled.ok() && compiled->Matches(metadata);
}

TEST(MetadataFilterTest, EqualityAndRangesAcrossNumericTypes) {
  EXPECT_TRUE(Match(Cond("year", FieldCondition::EQ, Int(2019))));
  EXPECT_FALSE(Match(Cond("year", FieldCondition::EQ, Int(2020))));
  EXPECT_TRUE(Match(Cond("year", FieldCondition::GTE, Int(2019))));
  EXPECT_FALSE(Match(Cond("year", FieldCondition::GT, Int(2019))));
  EXPECT_TRUE(Match(Cond("year", FieldCondition::LT, Int(2020))));
  MetadataValue half;
  half.set_double_value(0.5);
  EXPECT_TRUE(Match(Cond("score", FieldCondition::GT, half)));
  EXPECT_TRUE(Match(Cond("year", FieldCondition::LTE, Int(2019))));  // int vs int
  MetadataValue year_double;
  year_double.set_double_value(2019.0);
  EXPECT_TRUE(Match(Cond("year", FieldCondition::EQ, year_double)));  // int vs double
  EXPECT_TRUE(Match(Cond("lang", FieldCondition::NE, Str("fr"))));
  EXPECT_FALSE(Match(Cond("lang", FieldCondition::EQ, Int(1))));  // string vs int: no match
}

TEST(MetadataFilterTest, TimestampsBoolsListsAndSets) {
  MetadataValue before;
  before.mutable_timestamp_value()->set_seconds(1500000000);
  EXPECT_TRUE(Match(Cond("published", FieldCondition::GT, before)));
  EXPECT_FALSE(Match(Cond("published", FieldCondition::GT, Int(0))));  // time vs number
  MetadataValue yes;
  yes.set_bool_value(true);
  EXPECT_TRUE(Match(Cond("open", FieldCondition::EQ, yes)));
  EXPECT_TRUE(Match(Cond("tags", FieldCondition::CONTAINS, Str("vaccine"))));
  EXPECT_FALSE(Match(Cond("tags", FieldCondition::CONTAINS, Str("flu"))));
  EXPECT_TRUE(Match(Cond("tags", FieldCondition::EQ, Str("covid"))));  // any element

  Filter in = Cond("lang", FieldCondition::IN);
  *in.mutable_condition()->add_values() = Str("de");
  *in.mutable_condition()->add_values() = Str("en");
  EXPECT_TRUE(Match(in));
  in.mutable_condition()->set_op(FieldCondition::NOT_IN);
  EXPECT_FALSE(Match(in));
}

TEST(MetadataFilterTest, MissingFieldsAndExists) {
  EXPECT_FALSE(Match(Cond("missing", FieldCondition::EQ, Int(1))));
  EXPECT_TRUE(Match(Cond("missing", FieldCondition::NE, Int(1))));
  EXPECT_FALSE(Match(Cond("missing", FieldCondition::EXISTS)));
  EXPECT_TRUE(Match(Cond("year", FieldCondition::EXISTS)));
}

TEST(MetadataFilterTest, BooleanCombinations) {
  Filter both;
  *both.mutable_and_()->add_filters() = Cond("year", FieldCondition::GTE, Int(2015));
  *both.mutable_and_()->add_filters() = Cond("lang", FieldCondition::EQ, Str("en"));
  EXPECT_TRUE(Match(both));
  Filter either;
  *either.mutable_or_()->add_filters() = Cond("year", FieldCondition::LT, Int(2000));
  *either.mutable_or_()->add_filters() = Cond("lang", FieldCondition::EQ, Str("fr"));
  EXPECT_FALSE(Match(either));
  Filter negated;
  *negated.mutable_not_() = either;
  EXPECT_TRUE(Match(negated));
  auto compiled = MetadataFilter::Compile(both);
  ASSERT_TRUE(compiled.ok());
  EXPECT_EQ(compiled->fields(), (std::vector<std::string>{"lang", "year"}));
}

TEST(MetadataFilterTest, EmptyFilterMatchesAll) {
  auto compiled = MetadataFilter::Compile(Filter());
  ASSERT_TRUE(compiled.ok());
  EXPECT_TRUE(compiled->MatchesAll());
  EXPECT_TRUE(compiled->Matches(Metadata()));
}

TEST(MetadataFilterTest, MalformedFiltersAreInvalidWithPreciseMessages) {
  auto no_field = MetadataFilter::Compile(Cond("", FieldCondition::EQ, Int(1)));
  EXPECT_EQ(no_field.status().code(), absl::StatusCode::kInvalidArgument);
  auto no_value = MetadataFilter::Compile(Cond("year", FieldCondition::EQ));
  EXPECT_NE(no_value.status().message().find("value is required"), std::string::npos);
  MetadataValue yes;
  yes.set_bool_value(true);
  EXPECT_FALSE(MetadataFilter::Compile(Cond("open", FieldCondition::LT, yes)).ok());
  EXPECT_FALSE(MetadataFilter::Compile(Cond("lang", FieldCondition::IN)).ok());
  EXPECT_FALSE(MetadataFilter::Compile(Cond("x", FieldCondition::OP_UNSPECIFIED, Int(1))).ok());
  Filter empty_and;
  empty_and.mutable_and_();
  EXPECT_FALSE(MetadataFilter::Compile(empty_and).ok());

  Filter deep = Cond("year", FieldCondition::EXISTS);
  for (int i = 0; i < MetadataFilter::kMaxDepth + 2; ++i) {
    Filter wrapper;
    *wrapper.mutable_not_() = deep;
    deep = wrapper;
  }
  auto too_deep = MetadataFilter::Compile(deep);
  EXPECT_NE(too_deep.status().message().find("deeper"), std::string::npos);

  Filter wide;
  for (int i = 0; i <= MetadataFilter::kMaxConditions; ++i) {
    *wide.mutable_or_()->add_filters() = Cond("year", FieldCondition::EQ, Int(i));
  }
  EXPECT_FALSE(MetadataFilter::Compile(wide).ok());
}

}  // namespace
}  // namespace tessera
