"""IBM Telco churn sample: one row per customer at a snapshot, with tenure in months and a churn flag.

The sample carries no dates, so the recipe places the snapshot at the client's ``as_of`` month and
counts back: a customer with tenure t who is still active was billed at the last t month-ends; one
who churned "within the last month" (IBM's definition) was billed at the t month-ends before the
snapshot month and ended in it. MonthlyCharges is the monthly price, whatever the contract length.
"""

import pandas as pd

from kpi_kit.importers import clean_number, import_frame, read_export

SNAPSHOT = pd.Period("2018-01", "M")  # nominal: the sample gives no date (the client's as_of is its last day)


def build(dataset, out, report):
    raw = read_export(dataset / "WA_Fn-UseC_-Telco-Customer-Churn.csv", report)
    tenure = raw["Tenure"].astype(int)
    churned = raw["Churn"].str.strip().eq("Yes")
    first_billed = pd.PeriodIndex(SNAPSHOT - tenure.where(~churned, tenure + 1) + 1, freq="M")
    subs = pd.DataFrame({
        "subscription_id": raw["customerID"], "customer_id": raw["customerID"],
        "start_date": first_billed.to_timestamp(), "amount": clean_number(raw["MonthlyCharges"]),
        "billing_period_months": 1,
        "end_date": pd.Series(SNAPSHOT.to_timestamp(), index=raw.index).where(churned),
    })
    new = tenure == 0
    report.say(f"telco: {int(churned.sum())} churned customer(s) end in {SNAPSHOT}; {int(new.sum())} with tenure 0 "
               "(TotalCharges blank) start after the snapshot: not billed yet, so not counted")
    import_frame(subs, "subscriptions", out, label="WA_Fn-UseC_-Telco-Customer-Churn.csv", report=report)
    customers = pd.DataFrame({"customer_id": raw["customerID"], "segment": raw["Contract"].str.strip()})
    import_frame(customers, "customers", out, label="WA_Fn-UseC_-Telco-Customer-Churn.csv (contract)", report=report)
