"""Named errors of the registry (業主名冊)."""
from __future__ import annotations

from app.domain.errors import AlreadyExists, Conflict, Forbidden, Invalid, NotFound


class EstateNotFound(NotFound):
    title = "Estate not found"
    title_zh = "未找到该小区"


class EstateCodeTaken(AlreadyExists):
    title = "Another estate of the company uses this code"
    title_zh = "公司内已有小区使用此代码"


class EstateClosed(Conflict):
    title = "The estate is closed: its history can be read, but nothing new is recorded in it"
    title_zh = "该小区已停用：历史记录可以查看，但不再登记新的记录"


class OfficeHoursOutOfOrder(Invalid):
    title = "Office hours must run morning open < morning close <= afternoon open < afternoon close"
    title_zh = "办公时间须满足：上午上班 < 上午下班 <= 下午上班 < 下午下班"


class JurisdictionNotFound(NotFound):
    title = "Jurisdiction not found"
    title_zh = "未找到该辖区"


class JurisdictionNameTaken(AlreadyExists):
    title = "The estate already has a jurisdiction of this name"
    title_zh = "本小区已有同名辖区"


class JurisdictionsNeedSupervisor(Forbidden):
    title = "Only a supervisor or an administrator sets up jurisdictions"
    title_zh = "只有主管或管理员可以设置辖区"


class NotAManagerOfEstate(Invalid):
    title = "manager_id must be a user with the manager role in this estate"
    title_zh = "manager_id 必须是本小区具有经理角色的用户"


class JurisdictionNotInEstate(Invalid):
    title = "jurisdiction_id names no jurisdiction of this estate"
    title_zh = "jurisdiction_id 不是本小区的辖区"


class BuildingNotFound(NotFound):
    title = "Building not found"
    title_zh = "未找到该楼栋"


class BuildingNameTaken(AlreadyExists):
    title = "The estate already has a building of this name"
    title_zh = "本小区已有同名楼栋"


class BuildingNotInEstate(Invalid):
    title = "building_id names no building of this estate"
    title_zh = "building_id 不是本小区的楼栋"


class UnitNotFound(NotFound):
    title = "Unit not found"
    title_zh = "未找到该房号"


class UnitNumberTaken(AlreadyExists):
    title = "The building already has this room number in this entrance"
    title_zh = "该楼栋此单元已有这个房号"


class UnitNotInEstate(Invalid):
    title = "unit_id names no unit of the owner's estate"
    title_zh = "unit_id 不是该业主所在小区的房号"


class OwnerNotFound(NotFound):
    title = "Owner not found"
    title_zh = "未找到该业主"


class UnitAlreadyLinked(AlreadyExists):
    title = "The owner is already linked to this unit"
    title_zh = "该业主已关联此房号"


class UnitNotLinked(NotFound):
    title = "The owner is not linked to this unit"
    title_zh = "该业主与此房号没有关联"


class PhoneNotFound(NotFound):
    title = "The owner has no such phone"
    title_zh = "该业主没有这个电话号码"


class PhoneAlreadyListed(AlreadyExists):
    title = "The owner already has this phone number"
    title_zh = "该业主已登记此电话号码"


class UnreadablePhone(Invalid):
    title = "Not a Chinese mobile or landline number"
    title_zh = "不是中国大陆的手机或固定电话号码"


class UnreadableUnitRef(Invalid):
    title = "Write the unit as building-entrance-room (8-2-301) or 8号楼2单元301"
    title_zh = "房号请写成 楼栋-单元-房间（8-2-301）或 8号楼2单元301"
