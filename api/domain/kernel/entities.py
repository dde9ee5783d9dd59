from enum import StrEnum


class EntityType(StrEnum):
    """Every record type the change log carries, by the name it is logged under."""

    ADMIN_UNIT = "admin_unit"
    HOUSEHOLD = "household"
    MEMBER = "member"
    HOUSEHOLD_STATUS = "household_status"
    ASSESSMENT = "assessment"
    CAMPAIGN = "review_campaign"
    USER_ACCOUNT = "user_account"
    PARTNER_CLIENT = "partner_client"
    SIGNING_KEY = "signing_key"
    NEED = "need"
    DELIVERY = "delivery"
    PLAN = "plan"
    TARGET = "plan_target"
    TASK = "plan_task"
